// Package secrets finds credentials in source trees, build contexts and
// built artifacts.
//
// Scan walks a directory (through an os.Root, so nothing outside it is
// read and symbolic links are not followed) or reads a single file, and
// looks inside archives it meets: tar, zip (jar, war, whl, ...), gzip,
// zstd and bzip2 streams, nested to a bounded depth and with bounded
// member counts and decompressed bytes, so a zip bomb costs a bounded amount
// of work. An OCI image layout or a `docker save` directory needs nothing
// special: its layer blobs are compressed tarballs and are recursed like any
// other archive, and its config blob (image environment, history) is text.
//
// Detection uses the rule set of package secrets/rules (gitleaks' default
// rules plus a few Hallmark rules). Findings carry the file, the archive
// member, the line and a redacted value, never the secret itself. Findings
// can be waived by an allowlist file (see ParseAllowlist) or by an inline
// comment that gives a reason:
//
//	token = "..." # hallmark:allow-secret reason: documented test fixture
//
// Waived findings are kept, marked Suppressed with the reason, so a report
// shows what was waived and why. Parts of the input that were not scanned
// because a limit was reached are reported as findings with rule
// "hallmark-scan-incomplete" and unknown severity: the scanner cannot tell
// whether they hold credentials, so policy must decide.
package secrets
