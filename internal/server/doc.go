// Package server runs `hallmark serve`: an HTTPS evidence service over the
// store and the gate. CI pipelines and rebuilders upload verified bundles,
// clients query evidence and deployment decisions, the gate answers
// deployment requests, and Kubernetes asks it through the admission webhook.
//
// It owns the listener, the configuration file, bearer-token
// authentication, request limits and timeouts, structured logs, Prometheus
// metrics and graceful shutdown. The domain work is done by attest, store,
// gate and admission.
package server
