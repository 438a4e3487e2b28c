// Package admission answers Kubernetes AdmissionReview v1 requests for
// workloads: every container, init container and ephemeral container image
// of a Pod or of a workload's pod template must be referenced by digest, or
// resolve to one through a configured Resolver, and a Decider (the
// Hallmark gate) must allow that digest for the namespace's environment.
//
// The validating endpoint (Webhook.ServeHTTP, Review) answers allowed or
// denied. The mutating endpoint (Webhook.Mutator, Mutate) decides the same
// way about objects with tag-only images and, when all are allowed, returns
// a JSONPatch pinning each of them to the digest that was decided about
// ("REPO:TAG@sha256:..."), so that what runs is what was checked.
//
// It is the only package of Hallmark that imports k8s.io. The webhook fails
// closed: a malformed request (read case-sensitively, duplicate fields
// refused; an operation other than CREATE, UPDATE, DELETE or CONNECT), an
// unknown kind, an image that is not one well-formed reference, an
// unmapped namespace, a tag that does not resolve, a Decider error or an exhausted time budget
// all deny. Allow decisions are cached per (digest, namespace, environment,
// policy version) for a bounded time and number of entries; denials are
// never cached, nor are dry runs' allows (the Decider records nothing for
// a dry run), and tags never are (the Resolver decides how long a tag's
// digest is reused). A dry-run review (request.dryRun) gets the answer a
// real one would, and the Decider is told it is a dry run.
package admission
