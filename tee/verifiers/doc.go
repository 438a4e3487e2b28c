// Package verifiers assembles the TEE verifiers of every platform into one
// tee.Registry: the set `hallmark tee verify` configures from its flags,
// and the offline default the gate re-verifies TEE attestations with; and
// this machine's own TEE for `hallmark build --tee` (OpenHardware).
package verifiers
