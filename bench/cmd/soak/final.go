package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// final is the end-of-run check: every revoked token introspected on
// every node, once the load is over and every node is ready.
type final struct {
	checked uint64
	active  uint64 // answered active: each fails check 3
	other   uint64 // answered anything but 200: each fails check 3 too (no verdict)
	notable []string
}

// finalCheck introspects every revoked token on every node, with workers
// goroutines.
func finalCheck(ctx context.Context, l *load, workers int) final {
	var (
		f       final
		checked atomic.Uint64
		mu      sync.Mutex
		wg      sync.WaitGroup
	)
	revoked := l.pools.allRevoked()
	jobs := make(chan int)
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				t, i := revoked[j/nodeCount], j%nodeCount
				a := l.api.post(ctx, i, "/oauth2/introspect", map[string][]string{"token": {t.value}}, &l.fx.rs)
				checked.Add(1)
				oc := judgeRevoked(outcomeOf(opIntrospectRevoked, a), a, t)
				if a.status == 200 && oc.wrong == "" {
					continue
				}
				mu.Lock()
				if oc.wrong == wrongRevokedActive {
					f.active++
				} else {
					f.other++
				}
				if len(f.notable) < maxNotable {
					f.notable = append(f.notable, fmt.Sprintf("node%d: %s %s %s", i+1, statusText(a.status), oc.code, oc.detail))
				}
				mu.Unlock()
			}
		})
	}
	for j := range len(revoked) * nodeCount {
		if ctx.Err() != nil {
			break
		}
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	f.checked = checked.Load()
	return f
}

// memory is a node's resident set size and its peak, in bytes.
type memory struct {
	rss, peak int64
}

// nodeMemory reads each node's VmRSS and VmHWM (Linux); zero elsewhere.
func nodeMemory(nodes []*node) []memory {
	m := make([]memory, len(nodes))
	for i, n := range nodes {
		m[i] = procMemory(n.proc.pid())
	}
	return m
}

func procMemory(pid int) memory {
	var m memory
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, _ := strconv.ParseInt(fields[0], 10, 64)
		switch key {
		case "VmRSS":
			m.rss = kb << 10
		case "VmHWM":
			m.peak = kb << 10
		}
	}
	return m
}

// loadAverage returns the 1-minute load average, or "" if unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return firstFields(string(b), 3)
}

// firstFields returns the first n space-separated fields of s.
func firstFields(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}
