package redisstore_test

import "syscall"

// childProcAttr has Linux kill a test's child process when the test binary
// dies, so that no redis-server outlives a run that panicked or timed out
// before its cleanup.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
