package main

import (
	"context"
	"fmt"
	"log/slog"
)

// goRedisLog receives go-redis's own log lines (a pool that cannot dial
// says so once per attempt). They go to the process logger at debug: the
// error that matters reaches the user through the stores, once, in words
// that say what to do. A nil log drops them.
type goRedisLog struct{ log *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (g goRedisLog) Printf(ctx context.Context, format string, v ...any) {
	if g.log == nil || !g.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	g.log.LogAttrs(ctx, slog.LevelDebug, "go-redis", slog.String("detail", fmt.Sprintf(format, v...)))
}
