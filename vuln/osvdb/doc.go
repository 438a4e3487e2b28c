// Package osvdb keeps a local copy of OSV vulnerability data: it imports
// records from a directory of OSV JSON files, from an osv.dev-style all.zip,
// or from an HTTP mirror serving <ecosystem>/all.zip, and stores them in a
// directory with one record file and one package index per ecosystem plus a
// meta.json that records, per ecosystem, the import date, the source, the
// record count and a content digest.
//
// An import replaces the data of every ecosystem it brings and keeps the
// others. Records are looked up by (ecosystem, package name). The database
// itself makes no freshness judgement; package vuln refuses a clean result
// when data is missing or stale.
package osvdb
