// Package kubetest runs a real Kubernetes control plane for admission
// tests: Debian's etcd and a kube-apiserver built by scripts/tools.sh, on
// loopback, with a small certificate authority for the serving and client
// certificates both sides need. It speaks to the API server with plain
// HTTPS and JSON, as any client does; there is no controller manager, so
// objects are only created, never reconciled (admission runs at create).
package kubetest
