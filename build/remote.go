package build

// RemoteURI renders a git remote URL as provenance records it (Source.URI):
// an SLSA-style "git+" URI with any credentials removed, "" when it is not
// a URL, an scp-like address or an absolute path.
func RemoteURI(remote string) string { return repoURI(remote) }
