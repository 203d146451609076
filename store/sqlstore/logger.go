package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// gormLogger routes GORM's output to slog at debug level. Statements are
// logged with their placeholders only: parameter values may be secret
// hashes, sealed keys or usernames.
type gormLogger struct {
	log *slog.Logger
}

var (
	_ gormlogger.Interface = gormLogger{}
	_ gorm.ParamsFilter    = gormLogger{}
)

func newGormLogger(log *slog.Logger) gormLogger {
	return gormLogger{log: log}
}

// LogMode is ignored: the slog handler decides what is kept.
func (l gormLogger) LogMode(gormlogger.LogLevel) gormlogger.Interface { return l }

func (l gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.message(ctx, msg, args)
}

func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.message(ctx, msg, args)
}

func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.message(ctx, msg, args)
}

func (l gormLogger) message(ctx context.Context, msg string, args []any) {
	if !l.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	l.log.DebugContext(ctx, "gorm", "message", msg)
}

// Trace logs one statement after it ran.
func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if !l.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	sql, rows := fc()
	attrs := []slog.Attr{
		slog.String("sql", sql),
		slog.Int64("rows", rows),
		slog.Duration("duration", time.Since(begin)),
	}
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.log.LogAttrs(ctx, slog.LevelDebug, "sql statement", attrs...)
}

// ParamsFilter drops the parameter values so Trace sees only placeholders.
func (l gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
