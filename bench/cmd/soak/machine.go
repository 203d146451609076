package main

import (
	"context"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where and what ran.
type machine struct {
	date      time.Time
	cpu       string
	cores     int
	memory    string
	kernel    string
	goVersion string
	commit    string // git HEAD, "+ uncommitted changes" when dirty
	tollgate  string // what the binary's version command printed
	postgres  string
	redis     string
	loadStart string // load average before the run
}

// describeMachine reads the machine's description; what it cannot read
// stays empty.
func describeMachine(ctx context.Context, environ []string) machine {
	m := machine{date: time.Now().UTC(), cores: runtime.NumCPU(), goVersion: runtime.Version(), loadStart: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.memory = strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := runCommand(ctx, environ, "", "git", "rev-parse", "HEAD"); err == nil {
		m.commit = strings.TrimSpace(string(out))
		if st, err := runCommand(ctx, environ, "", "git", "status", "--porcelain"); err == nil && len(st) > 0 {
			m.commit += " + uncommitted changes"
		}
	}
	return m
}
