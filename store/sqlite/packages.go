package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/store"
)

var _ store.PackageIndexer = (*Store)(nil)

// IndexPackages replaces the indexed packages of each record in one
// transaction, between group commits (see Delete).
func (s *Store) IndexPackages(ctx context.Context, byRecord map[string][]store.Package) error {
	if len(byRecord) == 0 {
		return nil
	}
	s.writes.Lock()
	defer s.writes.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index packages: begin: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO packages(evidence_id, ecosystem, name) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("index packages: %w", err)
	}
	defer ins.Close()
	for id, pkgs := range byRecord {
		if _, err := tx.ExecContext(ctx, `DELETE FROM packages WHERE evidence_id = ?`, id); err != nil {
			return fmt.Errorf("index packages of %s: %w", id, err)
		}
		for _, p := range dedupe(pkgs) {
			if _, err := ins.ExecContext(ctx, id, p.Ecosystem, p.Name); err != nil {
				return fmt.Errorf("index packages of %s: %w", id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO packages_indexed(evidence_id) VALUES (?) ON CONFLICT DO NOTHING`, id); err != nil {
			return fmt.Errorf("index packages of %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index packages: commit: %w", err)
	}
	s.ckpt.wrote(len(byRecord))
	return nil
}

// dedupe sorts pkgs and drops repeats.
func dedupe(pkgs []store.Package) []store.Package {
	out := slices.Clone(pkgs)
	slices.SortFunc(out, func(a, b store.Package) int {
		if c := strings.Compare(a.Ecosystem, b.Ecosystem); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return slices.Compact(out)
}

// Unindexed lists records of the types with no packages_indexed row.
func (s *Store) Unindexed(ctx context.Context, predicateTypes []string, limit int) ([]string, error) {
	if len(predicateTypes) == 0 || limit <= 0 {
		return nil, nil
	}
	q, args := unindexedSQL(predicateTypes, limit)
	return s.strings(ctx, q, args...)
}

// unindexedSQL is Unindexed's statement and arguments.
func unindexedSQL(predicateTypes []string, limit int) (string, []any) {
	args := make([]any, 0, len(predicateTypes)+1)
	for _, t := range predicateTypes {
		args = append(args, t)
	}
	args = append(args, limit)
	return `SELECT id FROM evidence WHERE predicate_type IN (` + strings.TrimSuffix(strings.Repeat("?,", len(predicateTypes)), ",") + `)
		AND id NOT IN (SELECT evidence_id FROM packages_indexed) ORDER BY id LIMIT ?`, args
}

// SubjectsWithPackagesSQL finds the subjects of the records listing any
// package of a JSON array of [ecosystem, name] pairs, through the
// packages_name index, and reads them from the records' rows.
const subjectsWithPackagesSQL = `SELECT DISTINCT json_extract(j.value, '$[1]') || ':' || json_extract(j.value, '$[2]') FROM packages p
	JOIN evidence e ON e.id = p.evidence_id, json_each(e.subjects) j
	WHERE (p.ecosystem, p.name) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
	ORDER BY 1`

// SubjectsWithPackages returns the subjects of indexed records listing any
// of pkgs.
func (s *Store) SubjectsWithPackages(ctx context.Context, pkgs []store.Package) ([]string, error) {
	if len(pkgs) == 0 {
		return nil, nil
	}
	return s.strings(ctx, subjectsWithPackagesSQL, packagePairs(pkgs))
}

// packagePairs is the JSON array of [ecosystem, name] pairs
// subjectsWithPackagesSQL takes.
func packagePairs(pkgs []store.Package) string {
	pairs := make([][2]string, len(pkgs))
	for i, p := range pkgs {
		pairs[i] = [2]string{p.Ecosystem, p.Name}
	}
	b, _ := json.Marshal(pairs) // strings always marshal
	return string(b)
}

// SubjectsIndexed returns which subjects some indexed record is about.
func (s *Store) SubjectsIndexed(ctx context.Context, subjects []string) ([]string, error) {
	if len(subjects) == 0 {
		return nil, nil
	}
	pairs, err := subjectPairs(subjects)
	if err != nil {
		return nil, err
	}
	return s.strings(ctx, subjectsIndexedSQL, pairs)
}

// subjectsIndexedSQL finds which of a JSON array of [alg, digest] pairs
// some indexed record is about, through the subjects table's key.
const subjectsIndexedSQL = `SELECT DISTINCT s.alg || ':' || s.digest FROM subjects s
	JOIN packages_indexed i ON i.evidence_id = s.evidence_id
	WHERE (s.alg, s.digest) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
	ORDER BY 1`

// subjectPairs is the JSON array of [alg, digest] pairs of subjects
// ("sha256:HEX") that subjectsIndexedSQL takes.
func subjectPairs(subjects []string) (string, error) {
	pairs := make([][2]string, len(subjects))
	for i, sub := range subjects {
		d, err := digest.Parse(sub)
		if err != nil {
			return "", fmt.Errorf("%w: subject %q: %w", store.ErrBadQuery, sub, err)
		}
		pairs[i] = [2]string{d.Algorithm(), d.Hex()}
	}
	b, _ := json.Marshal(pairs) // strings always marshal
	return string(b), nil
}

// strings runs a query returning one text column.
func (s *Store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query package index: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("query package index: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
