package console_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkPages measures the console's heaviest pages as a signed-in
// browser gets them: the overview with an hour of samples (360 per chart)
// and a clients page of 25 rows, over real HTTP on SQLite.
func BenchmarkPages(b *testing.B) {
	for _, page := range []string{"/console/overview", "/console/clients"} {
		b.Run(page, func(b *testing.B) {
			n := newBenchNode(b)
			br := n.signedIn()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if p := br.get(page); p.status != http.StatusOK {
					b.Fatalf("%s: %d", page, p.status)
				}
			}
		})
	}
}

// newBenchNode is a node with 60 clients and an hour of samples.
func newBenchNode(b *testing.B) *node {
	b.Helper()
	n := newNode(b)
	for i := range 60 {
		n.client(fmt.Sprintf("bench-%02d", i))
	}
	for range 361 {
		n.stats.Sample(b.Context())
		n.clk.Advance(10 * time.Second)
	}
	return n
}
