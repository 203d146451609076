package secret_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/secret"
)

// TestPasswordGate: a full gate answers ErrBusy once the queue wait is
// over, rather than holding the caller until it gives up; a caller that
// leaves gets its own context's error; a released slot is taken again.
func TestPasswordGate(t *testing.T) {
	g := secret.NewPasswordGate(1, 50*time.Millisecond)
	release, err := g.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("busy after the wait", func(t *testing.T) {
		// The caller would wait an hour; the gate does not let it.
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		if _, err := g.Acquire(ctx); !errors.Is(err, secret.ErrBusy) {
			t.Fatalf("Acquire on a full gate = %v, want ErrBusy", err)
		}
	})
	t.Run("caller gone", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := secret.NewPasswordGate(1, time.Hour).Acquire(ctx); err != nil {
			t.Fatalf("a free slot with the caller gone: %v (a free slot is taken first)", err)
		}
		if _, err := g.Acquire(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire on a full gate, caller gone = %v, want context.Canceled", err)
		}
	})
	t.Run("released slot", func(t *testing.T) {
		release()
		r, err := g.Acquire(t.Context())
		if err != nil {
			t.Fatalf("Acquire after release: %v", err)
		}
		r()
	})
}
