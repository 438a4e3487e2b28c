// Package diff explains why two build artifacts differ.
//
// [Files] compares two artifacts and returns a [Report]: a flat list of
// [Difference] values, each naming where the difference is (an archive member
// path such as "data.tar!usr/bin/tool"), what differs (a header field, an ELF
// section, Go build information, a run of bytes, a unified text diff) and, when
// one can be inferred, the likely cause: a timestamp, the build path, the
// locale or time zone, file order, file mode (umask), randomness, the
// toolchain version.
//
// The comparer recurses into tar, gzip, bzip2, xz, zstd, zip/jar and ar/.deb
// members, into ELF sections and Go build information, and into JSON and text
// (as a unified diff); anything else is compared byte by byte and reported as
// the first differing offsets.
//
// Inputs are untrusted: every read is bounded (see the With... options) by
// nesting depth, member counts, decompressed size and the number of
// differences reported. Archives are read as streams: a large tar is indexed
// in one pass computing member digests, and only the members that differ are
// extracted (to memory when small, to a temporary file otherwise) in a second
// pass. A limit that is reached is recorded in [Report.Notes]; it does not
// fail the comparison.
package diff
