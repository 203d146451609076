package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunRevocationRoster runs the store.RevocationRoster contract. open is
// called once per subtest and returns two instances on one backend, as two
// server processes would open them. Subtests run in parallel and only look
// at nodes with their own random names, so every subtest may share one
// backend.
func RunRevocationRoster(t *testing.T, open func(t *testing.T) (a, b store.RevocationRoster)) {
	tests := []struct {
		name string
		run  func(t *testing.T, a, b store.RevocationRoster)
	}{
		{"JoinThenRenew", rosterTestJoin},
		{"AckedNodeIsNoLaggard", rosterTestAck},
		{"AckNeverMovesBack", rosterTestMonotonic},
		{"LeaseRunsOut", rosterTestLease},
		{"LeaveTakesNodeOff", rosterTestLeave},
		{"ConcurrentNodes", rosterTestConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			tc.run(t, a, b)
		})
	}
}

// rosterLease is long enough never to run out within a test by accident.
const rosterLease = time.Minute

func rosterTestJoin(t *testing.T, a, b store.RevocationRoster) {
	node := rosterNode()
	if rosterAck(t, a, node, 5, rosterLease) {
		t.Error("first acknowledgement: renewed = true, want false (a node joining)")
	}
	if !rosterAck(t, b, node, 6, rosterLease) {
		t.Error("second acknowledgement within the lease: renewed = false, want true")
	}
}

func rosterTestAck(t *testing.T, a, b store.RevocationRoster) {
	node := rosterNode()
	rosterAck(t, a, node, 10, rosterLease)
	if got := rosterLaggards(t, b, 10, node); len(got) != 0 {
		t.Errorf("Laggards(10) after an acknowledgement of 10 = %v, want none", got)
	}
	if got := rosterLaggards(t, b, 11, node); !slices.Equal(got, []string{node}) {
		t.Errorf("Laggards(11) after an acknowledgement of 10 = %v, want [%s]", got, node)
	}
}

func rosterTestMonotonic(t *testing.T, a, b store.RevocationRoster) {
	node := rosterNode()
	rosterAck(t, a, node, 1_800_000_000_000_010, rosterLease)
	rosterAck(t, b, node, 1_800_000_000_000_005, rosterLease)
	if got := rosterLaggards(t, a, 1_800_000_000_000_010, node); len(got) != 0 {
		t.Errorf("an acknowledgement moved back: Laggards = %v, want none", got)
	}
	if got := rosterLaggards(t, a, 1_800_000_000_000_011, node); len(got) != 1 {
		t.Errorf("Laggards(one past the acknowledgement) = %v, want the node (Seqs keep full precision)", got)
	}
}

func rosterTestLease(t *testing.T, a, b store.RevocationRoster) {
	node := rosterNode()
	const lease = 300 * time.Millisecond
	rosterAck(t, a, node, 10, lease)
	if got := rosterLaggards(t, b, 11, node); len(got) != 1 {
		t.Fatalf("Laggards right after joining with a %v lease = %v, want the node", lease, got)
	}
	deadline := time.Now().Add(10 * lease)
	for len(rosterLaggards(t, b, 11, node)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("node still a laggard %v after its %v lease", 10*lease, lease)
		}
		time.Sleep(lease / 10)
	}
	if rosterAck(t, a, node, 11, rosterLease) {
		t.Error("acknowledgement after the lease ran out: renewed = true, want false (it must read the store again)")
	}
}

func rosterTestLeave(t *testing.T, a, b store.RevocationRoster) {
	node, other := rosterNode(), rosterNode()
	rosterAck(t, a, node, 10, rosterLease)
	rosterAck(t, a, other, 10, rosterLease)
	fixtureNoErr(t, "LeaveRevocations", b.LeaveRevocations(t.Context(), node))
	if got := rosterLaggards(t, a, 11, node, other); !slices.Equal(got, []string{other}) {
		t.Errorf("Laggards after %s left = %v, want only the other node", node, got)
	}
	if rosterAck(t, a, node, 11, rosterLease) {
		t.Error("acknowledgement after leaving: renewed = true, want false")
	}
	fixtureNoErr(t, "LeaveRevocations(unknown node)", b.LeaveRevocations(t.Context(), rosterNode()))
}

func rosterTestConcurrent(t *testing.T, a, b store.RevocationRoster) {
	const n = 12
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = rosterNode()
	}
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			for seq := range int64(5) {
				if _, err := []store.RevocationRoster{a, b}[i%2].AckRevocations(t.Context(), node, 100*int64(i)+seq, rosterLease); err != nil {
					t.Errorf("AckRevocations(%s): %v", node, err)
				}
			}
		})
	}
	wg.Wait()
	want := slices.Clone(nodes)
	slices.Sort(want)
	if got := rosterLaggards(t, a, 1_000_000, nodes...); !slices.Equal(got, want) {
		t.Errorf("Laggards(above every acknowledgement) = %v, want all %d nodes, sorted", got, n)
	}
	// Node i acknowledged 100i+4 last: exactly those with 100i+4 < 404 lag.
	if got := rosterLaggards(t, b, 404, nodes...); !slices.Equal(got, sortedCopy(nodes[:4])) {
		t.Errorf("Laggards(404) = %v, want the first four nodes %v", got, sortedCopy(nodes[:4]))
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func rosterNode() string {
	return "node-" + revocationID()
}

func rosterAck(t *testing.T, s store.RevocationRoster, node string, seq int64, lease time.Duration) bool {
	t.Helper()
	renewed, err := s.AckRevocations(t.Context(), node, seq, lease)
	fixtureNoErr(t, fmt.Sprintf("AckRevocations(%s, %d)", node, seq), err)
	return renewed
}

// rosterLaggards returns the laggards at seq among mine, checking that
// the whole answer is sorted.
func rosterLaggards(t *testing.T, s store.RevocationRoster, seq int64, mine ...string) []string {
	t.Helper()
	all, err := s.RevocationLaggards(t.Context(), seq)
	fixtureNoErr(t, fmt.Sprintf("RevocationLaggards(%d)", seq), err)
	if !slices.IsSorted(all) {
		t.Errorf("RevocationLaggards(%d) = %v, not sorted", seq, all)
	}
	var out []string
	for _, n := range all {
		if slices.Contains(mine, n) {
			out = append(out, n)
		}
	}
	return out
}
