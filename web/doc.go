// Package web is Hallmark's read-only dashboard: server-rendered HTML pages
// (html/template, templates and CSS embedded, no JavaScript) over an
// evidence store.
//
// It shows the artifacts in the store with their evidence counts and
// latest deployment decision per environment, each artifact's evidence
// chain (provenance, SBOM, scans, rebuilds, TEE, approvals, gate
// decisions), the deployment history per environment and the findings of
// every scan. Every evidence item links to its raw statement.
//
// The store only holds evidence that verified when it was stored; the
// dashboard displays it and never decides anything on it. Every response
// carries a strict Content-Security-Policy; the handler accepts only GET
// and HEAD and is wrapped in [net/http.CrossOriginProtection].
//
// [New] returns an [net/http.Handler] that serves every page under a base
// path ("/ui" unless [WithBasePath] says otherwise); mount it on that
// prefix without stripping it:
//
//	h, err := web.New(st, tr, web.WithLogger(log))
//	mux.Handle("/ui/", h)
package web
