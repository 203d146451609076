package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// environment is what the figures were measured on and with.
type environment struct {
	CPUs      int
	CPUModel  string
	Memory    int64 // bytes
	GoVersion string
	Tollgate  string // commit, and whether the tree had uncommitted changes
	Vegeta    string
	Wrk       string // empty: wrk was not used
}

func describeEnvironment(ctx context.Context, o options, bin string) environment {
	e := environment{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Vegeta: moduleVersion("github.com/tsenart/vegeta/v12")}
	e.CPUModel, e.Memory = readCPUInfo()
	e.Tollgate = describeBinary(bin)
	if e.Tollgate == "" {
		e.Tollgate = describeTree(ctx, o.root)
	}
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		e.GoVersion = bi.GoVersion
	}
	if o.wrk {
		// wrk -v prints its version and exits with status 1.
		out, _ := exec.CommandContext(ctx, "wrk", "-v").CombinedOutput()
		e.Wrk, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
		e.Wrk = strings.TrimSpace(strings.SplitN(e.Wrk, "Copyright", 2)[0])
	}
	return e
}

// describeBinary reads the commit go build stamped into the binary.
func describeBinary(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	return describeCommit(rev, modified == "true")
}

// describeTree asks git, for a binary built without version control data.
func describeTree(ctx context.Context, root string) string {
	rev, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	status, _ := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output()
	return describeCommit(strings.TrimSpace(string(rev)), len(strings.TrimSpace(string(status))) > 0)
}

func describeCommit(rev string, modified bool) string {
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		return rev + " plus uncommitted changes"
	}
	return rev
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

// readCPUInfo returns the CPU model and the memory size from /proc.
func readCPUInfo() (string, int64) {
	model, mem := "unknown CPU", int64(0)
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				mem = kb * 1024
			}
		}
	}
	return model, mem
}
