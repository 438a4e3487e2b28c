// Package admission answers Kubernetes AdmissionReview v1 requests for
// workloads: every container, init container and ephemeral container image
// of a Pod or of a workload's pod template must be referenced by digest,
// and a Decider (the Hallmark gate) must allow that digest for the
// namespace's environment.
//
// It is the only package of Hallmark that imports k8s.io. The webhook fails
// closed: a malformed request, an unknown kind, an unmapped namespace, a
// Decider error or an exhausted time budget all deny. Allow decisions are
// cached per (digest, environment, policy version) for a bounded time and
// number of entries; denials are never cached.
package admission
