//go:build !linux

package redisstore_test

import "syscall"

// childProcAttr: only Linux can tie a child's life to the test binary's;
// elsewhere the test's cleanup alone stops it.
func childProcAttr() *syscall.SysProcAttr { return nil }
