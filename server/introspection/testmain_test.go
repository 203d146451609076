package introspection_test

import (
	"testing"

	"github.com/tollgate/tollgate/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.PostgreSQL) }
