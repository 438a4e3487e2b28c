// Package benchcpu reports the CPU time a benchmark spends per operation
// ("cpu-ms/op"): the process's user and system time, collector included.
// On a shared machine it is steadier than wall time, and it is what bounds
// the rate a server sustains. For benchmarks only.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Process is the CPU time this process has used, user and system.
func Process(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
