package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The machine is shared: anything else running (a test suite, a build)
// takes cores from both the server and the generator and lowers the
// figures. The benchmark waits for a quiet machine before each measurement
// and reports how much CPU other processes used during it.

// quietShare is the share of the machine's CPU other processes may use for
// it to count as quiet.
const quietShare = 0.10

// cpuTimes is a snapshot of CPU time, in clock ticks.
type cpuTimes struct {
	busy, total uint64 // the whole machine, all cores
	// ours holds each of our processes' CPU time: the benchmark itself
	// (with its finished children, such as wrk) and the system under test.
	ours map[int]uint64
}

// background is the share of the machine's CPU that other processes used
// between a and b. A process seen in only one snapshot is left out (its
// time counts as other processes').
func background(a, b cpuTimes) float64 {
	if b.total <= a.total {
		return 0
	}
	other := int64(b.busy - a.busy)
	for pid, tb := range b.ours {
		if ta, ok := a.ours[pid]; ok {
			other -= int64(tb - ta)
		}
	}
	return float64(max(other, 0)) / float64(b.total-a.total)
}

// parseStatCPU reads the machine's busy and total ticks from the first
// line of /proc/stat: user nice system idle iowait irq softirq steal.
func parseStatCPU(r io.Reader) (busy, total uint64, err error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	f := strings.Fields(line)
	if (err != nil && line == "") || len(f) < 9 || f[0] != "cpu" {
		return 0, 0, errors.New("unexpected /proc/stat")
	}
	var v [8]uint64
	for i := range v {
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("unexpected /proc/stat: %w", err)
		}
	}
	idle := v[3] + v[4]
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy, busy + idle, nil
}

// parsePidStat returns a process's utime + stime + cutime + cstime from
// /proc/PID/stat. The command name may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parsePidStat(s string) (uint64, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	var sum uint64
	for _, x := range f[11:15] {
		n, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc/PID/stat: %w", err)
		}
		sum += n
	}
	return sum, nil
}

// waitQuiet waits, at most o.quietWait, until processes other than ours
// use less than quietShare of the machine's CPU over a second.
func (b *bench) waitQuiet(ctx context.Context, ours []int) {
	deadline := time.Now().Add(b.o.quietWait)
	lastLog := time.Time{}
	for {
		a, err := readCPUTimes(ours)
		if err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		c, err := readCPUTimes(ours)
		if err != nil {
			return
		}
		share := background(a, c)
		switch {
		case share < quietShare:
			return
		case time.Now().After(deadline):
			b.logf("other processes still use %.0f %% of the CPU after %s; measuring anyway", share*100, b.o.quietWait)
			return
		case time.Since(lastLog) >= 10*time.Second:
			b.logf("waiting for the machine to quieten: other processes use %.0f %% of the CPU", share*100)
			lastLog = time.Now()
		}
	}
}

// backgroundDuring runs fn and returns the share of the machine's CPU that
// processes other than ours used meanwhile, or -1 if it cannot be read.
func backgroundDuring(ours []int, fn func()) float64 {
	a, errA := readCPUTimes(ours)
	fn()
	c, errC := readCPUTimes(ours)
	if errA != nil || errC != nil {
		return -1
	}
	return background(a, c)
}
