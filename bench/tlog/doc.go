// Package tlogbench measures sign+log+timestamp against the real
// rekor-tiles POSIX server and timestamp-server (started on loopback by
// tlogtest), and offline verification of a logged, timestamped bundle by
// Hallmark and by sigstore-go's verifier on the same bundle, in one run.
// Run bench/tlog/run.sh.
package tlogbench
