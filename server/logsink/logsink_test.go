package logsink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an output that counts its writes.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	return r.buf.Write(p)
}

func (r *recorder) snapshot() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String(), r.writes
}

// start runs w until the test ends.
func start(t testing.TB, w *Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, r *recorder, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, _ := r.snapshot()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("output %q, want %q", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLoneLineWrittenAtOnce(t *testing.T) {
	t.Parallel()
	var r recorder
	// A gap far longer than the wait: the first line must not wait for it.
	w := New(&r, time.Hour)
	start(t, w)
	fmt.Fprint(w, "one\n")
	waitFor(t, &r, "one\n")
}

func TestLinesBatchedInOrder(t *testing.T) {
	t.Parallel()
	var r recorder
	w := New(&r, 20*time.Millisecond)
	stop := start(t, w)
	var want strings.Builder
	const lines = 5000
	for i := range lines {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		if _, err := io.WriteString(w, line); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	got, writes := r.snapshot()
	if got != want.String() {
		t.Fatalf("output differs from what was written (%d bytes, want %d)", len(got), want.Len())
	}
	if writes >= lines/10 {
		t.Fatalf("%d writes for %d lines written back to back, want them batched", writes, lines)
	}
}

func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	t.Parallel()
	var r recorder
	w := New(&r, time.Millisecond)
	stop := start(t, w)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "writer %d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	stop()
	got, _ := r.snapshot()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	next := map[string]int{}
	for _, l := range lines {
		var g, i int
		if _, err := fmt.Sscanf(l, "writer %d line %d", &g, &i); err != nil {
			t.Fatalf("torn line %q", l)
		}
		key := fmt.Sprint(g)
		if i != next[key] {
			t.Fatalf("writer %d: line %d after %d", g, i, next[key]-1)
		}
		next[key]++
	}
}

func TestFullBufferWrittenByTheWriter(t *testing.T) {
	t.Parallel()
	var r recorder
	w := New(&r, time.Hour) // Run is not running
	line := strings.Repeat("x", 1023) + "\n"
	for range maxBuffered / len(line) {
		if _, err := io.WriteString(w, line); err != nil {
			t.Fatal(err)
		}
	}
	got, writes := r.snapshot()
	if writes != 1 || len(got) != maxBuffered {
		t.Fatalf("%d writes of %d bytes in all once %d bytes were buffered, want 1 of them all", writes, len(got), maxBuffered)
	}
}

func TestHandlerWritesWarningsAtOnce(t *testing.T) {
	t.Parallel()
	var r recorder
	w := New(&r, time.Hour) // Run is not running: only Handle writes
	log := slog.New(Handler(slog.NewJSONHandler(w, nil), w)).With("node", "n1").WithGroup("g")
	log.Info("request")
	if got, _ := r.snapshot(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.Warn("disk slow", "ms", 3)
	got, _ := r.snapshot()
	if !strings.Contains(got, `"msg":"request","node":"n1"`) || !strings.Contains(got, `"msg":"disk slow","node":"n1","g":{"ms":3}`) {
		t.Fatalf("after a warning the output is %q, want both lines with their attributes", got)
	}
}

// reentrant is an output that, when armed, has a line arrive while a
// batch is being written, as a concurrent writer would, and keeps what it
// was given only after that.
type reentrant struct {
	w     *Writer
	armed bool
	got   []string
}

func (r *reentrant) Write(p []byte) (int, error) {
	if r.armed {
		r.armed = false
		io.WriteString(r.w, "late\n")
	}
	r.got = append(r.got, string(p))
	return len(p), nil
}

// TestEmptyFlushKeepsBuffersApart: a flush with nothing buffered must not
// leave the batch being written and the buffer being filled on one array.
func TestEmptyFlushKeepsBuffersApart(t *testing.T) {
	t.Parallel()
	r := &reentrant{}
	w := New(r, time.Hour) // Run is not running: only Flush writes
	r.w = w
	io.WriteString(w, "one\n")
	w.Flush()
	w.Flush() // nothing buffered
	io.WriteString(w, "two\n")
	r.armed = true
	w.Flush()
	w.Flush()
	if want := []string{"one\n", "two\n", "late\n"}; !slices.Equal(r.got, want) {
		t.Fatalf("batches %q, want %q: a batch was overwritten while it was written", r.got, want)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestFlushReportsOutputError(t *testing.T) {
	t.Parallel()
	w := New(failing{}, time.Hour)
	fmt.Fprint(w, "lost\n")
	if err := w.Flush(); err == nil {
		t.Fatal("Flush to a failing output reported no error")
	}
}

// BenchmarkRequestLine: one JSON request line written to a file, as serve
// writes its log, straight and through a Writer.
func BenchmarkRequestLine(b *testing.B) {
	for _, batched := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "batched"}[batched], func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() }) // after the Writer's last flush (cleanups run last first)
			var out io.Writer = f
			var h slog.Handler = slog.NewJSONHandler(f, nil)
			if batched {
				w := New(f, 25*time.Millisecond)
				start(b, w)
				out = w
				h = Handler(slog.NewJSONHandler(out, nil), w)
			}
			log := slog.New(h)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					log.LogAttrs(context.Background(), slog.LevelInfo, "request",
						slog.String("request_id", "94e94a1dc78f879d"), slog.String("method", "POST"),
						slog.String("path", "/oauth2/token"), slog.Int("status", 200),
						slog.Duration("duration", 450926), slog.String("client_id", "tgc_2xxjrFwRPbUb48XHm0lQGK"),
						slog.String("grant_type", "client_credentials"), slog.String("jti", "mAs3agPFcMyBM561GJP19A"))
				}
			})
		})
	}
}
