//go:build !linux

package main

import (
	"errors"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func readMemory(int) (memory, error) {
	return memory{}, errors.New("RSS is read from /proc/PID/status: Linux only")
}

func readCPUTimes([]int) (cpuTimes, error) {
	return cpuTimes{}, errors.New("CPU times are read from /proc: Linux only")
}
