// Command serve-bench sets up, loads and checks a `hallmark serve`
// instance for bench/serve/run.sh: it populates a store with signed
// evidence for many artifacts, drives the admission endpoint at a steady
// rate from 127.0.0.1 (cache hits or misses) and reports latency
// percentiles, and, for the fault test, uploads bundles while counting the
// acknowledged ones and later checks every acknowledged upload is stored.
//
// Every target must be a loopback address.
package main
