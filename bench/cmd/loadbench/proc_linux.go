//go:build linux

package main

import (
	"fmt"
	"os"
	"syscall"
)

// sysProcAttr puts a child in its own process group, so that a Ctrl-C in
// the terminal reaches only the benchmark, which then stops the child in
// order; and has the kernel kill the child if the benchmark dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// readMemory reads a process's resident set size and its peak.
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	return parseProcStatus(f)
}

// readCPUTimes samples the machine's CPU time, the benchmark's (with its
// finished children, such as wrk) and that of each of pids still running.
func readCPUTimes(pids []int) (cpuTimes, error) {
	t := cpuTimes{ours: map[int]uint64{}}
	f, err := os.Open("/proc/stat")
	if err != nil {
		return t, err
	}
	defer f.Close()
	if t.busy, t.total, err = parseStatCPU(f); err != nil {
		return t, err
	}
	for _, pid := range append([]int{os.Getpid()}, pids...) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // it has exited
		}
		if t.ours[pid], err = parsePidStat(string(b)); err != nil {
			return t, err
		}
	}
	return t, nil
}
