// Package benchcpu reports the CPU time a benchmark spends per operation
// ("cpu-ms/op"): the process's user and system time, collector included.
// On a shared machine it is steadier than wall time, and it is what bounds
// the rate a server sustains. For benchmarks only.
package benchcpu

import (
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Process is the CPU time this process has used, user and system.
func Process(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Thread is the CPU time the calling OS thread has used. Bracketing a call
// with it counts that call's work alone, without the collector or other
// goroutines, when the goroutine is locked to its thread
// (runtime.LockOSThread) and the call runs on the calling goroutine.
func Thread(tb testing.TB) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		tb.Fatalf("clock_gettime: %v", err)
	}
	return time.Duration(ts.Nano())
}

// Report starts counting and returns the function that reports the CPU
// time since then per b.N operations: call it before the loop and defer
// what it returns.
func Report(b *testing.B) func() {
	c0 := Process(b)
	return func() { ReportSince(b, c0, b.N) }
}

// ReportSince reports the CPU time since c0 (a Process reading) per n
// operations.
func ReportSince(b *testing.B, c0 time.Duration, n int) {
	b.ReportMetric(float64(Process(b)-c0)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
}
