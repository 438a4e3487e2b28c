// Package misconfig finds security misconfigurations in the files that build
// and deploy software: Dockerfiles (and Containerfiles), Kubernetes manifests
// and GitHub Actions workflows and composite actions.
//
// Scan walks an untrusted tree through an os.Root, recognises each file by
// name and content, parses it with a real parser (BuildKit's Dockerfile
// parser, mvdan.cc/sh for shell in RUN and run: steps, yaml.v3 nodes for
// YAML so every finding keeps its line) and applies the rules listed by
// Rules. Every result is a finding.Finding.
//
// Rules are turned off by ID in Config, or for one line by an inline comment
// that must give a reason:
//
//	# hallmark:ignore HM-DF-004 reason: the entrypoint drops privileges itself
//
// A waived finding is returned with Suppressed set, never dropped; a
// suppression comment without a reason or naming an unknown rule is itself
// reported (HM-SUP-001). Files that cannot be read or parsed produce a
// *FileError joined into the returned error while the scan goes on.
package misconfig
