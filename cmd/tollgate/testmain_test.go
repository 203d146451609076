package main

import (
	"testing"

	"github.com/tollgate/tollgate/internal/testenv"
)

// TestMain runs eight tests at a time: most of them wait on a started
// server, a subprocess or a real interval, not on the CPU.
func TestMain(m *testing.M) {
	testenv.Parallel(8)
	testenv.Main(m, testenv.PostgreSQL, testenv.Redis)
}
