// Package logsink batches log lines into fewer writes. Under load the
// request log is one JSON line per request; written one by one it costs a
// write system call each, a measurable share of a token request (see
// docs/BENCHMARKS.md). A Writer collects lines and writes them together:
// a lone line still goes out at once, and under load lines wait at most
// the flush gap. Records at warning level and above are written before
// Handle returns.
package logsink

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// maxBuffered is the size at which Write writes the batch itself rather
// than leave it to the flusher, so a stalled output slows the writers
// instead of growing the buffer without bound.
const maxBuffered = 256 << 10

// Writer buffers whole lines for out. Its methods are safe for concurrent
// use; Run must be running for buffered lines to be written.
type Writer struct {
	out io.Writer
	gap time.Duration

	mu  sync.Mutex // guards buf
	buf []byte
	// wmu serialises writes to out, so batches keep their order, and
	// guards spare, the buffer the last batch was written from.
	wmu   sync.Mutex
	spare []byte
	kick  chan struct{}
}

// New returns a Writer for out that writes at most one batch per gap
// while lines keep coming.
func New(out io.Writer, gap time.Duration) *Writer {
	return &Writer{out: out, gap: gap, kick: make(chan struct{}, 1)}
}

// Write buffers p, which slog hands over as one whole record. It fails
// only when the buffer is full and writing it out fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf = append(w.buf, p...)
	full := len(w.buf) >= maxBuffered
	w.mu.Unlock()
	if full {
		return len(p), w.Flush()
	}
	select {
	case w.kick <- struct{}{}:
	default: // a flush is already due
	}
	return len(p), nil
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.mu.Lock()
	if len(w.buf) == 0 {
		// Nothing to swap: swapping an empty buf for spare would leave
		// both naming one array, and the next batch would be written from
		// the array the writers append to.
		w.mu.Unlock()
		return nil
	}
	batch := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	_, err := w.out.Write(batch)
	w.spare = batch[:0]
	return err
}

// Run writes batches until ctx is done, then writes what is left. A line
// that arrives after a quiet spell is written at once; the next batch
// waits for the gap, so a busy server writes its log at most 1/gap times
// a second.
func (w *Writer) Run(ctx context.Context) {
	defer w.Flush()
	t := time.NewTimer(w.gap)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		}
		_ = w.Flush()
		t.Reset(w.gap)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Handler wraps h, whose output is w, so that a record at warning level or
// above is written before Handle returns: a warning or an error is not
// left in a buffer if the process dies right after it.
func Handler(h slog.Handler, w *Writer) slog.Handler {
	return &handler{Handler: h, w: w}
}

type handler struct {
	slog.Handler
	w *Writer
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(as), w: h.w}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), w: h.w}
}
