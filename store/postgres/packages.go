package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/store"
)

var _ store.PackageIndexer = (*Store)(nil)

// indexSQL replaces the indexed packages of a batch of records in one
// statement: $1 the record IDs, $2-$4 the package rows (record ID,
// ecosystem, name).
const indexSQL = `WITH del AS (
	DELETE FROM packages WHERE evidence_id = ANY($1)
), ins AS (
	INSERT INTO packages(evidence_id, ecosystem, name)
	SELECT * FROM unnest($2::text[], $3::text[], $4::text[])
)
INSERT INTO packages_indexed(evidence_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`

// IndexPackages replaces the indexed packages of each record in one
// statement. A DELETE and an INSERT of the same statement do not see each
// other's rows, so the rows deleted are exactly the old ones.
func (s *Store) IndexPackages(ctx context.Context, byRecord map[string][]store.Package) error {
	if len(byRecord) == 0 {
		return nil
	}
	ids := make([]string, 0, len(byRecord))
	for id := range byRecord {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var rec, ecos, names []string
	for _, id := range ids {
		seen := map[store.Package]bool{}
		for _, p := range byRecord[id] {
			if seen[p] {
				continue
			}
			seen[p] = true
			rec, ecos, names = append(rec, id), append(ecos, p.Ecosystem), append(names, p.Name)
		}
	}
	if _, err := s.pool.Exec(ctx, indexSQL, ids, rec, ecos, names); err != nil {
		return fmt.Errorf("index packages of %s: %w", describe(ids), err)
	}
	return nil
}

// Unindexed lists records of the types with no packages_indexed row.
func (s *Store) Unindexed(ctx context.Context, predicateTypes []string, limit int) ([]string, error) {
	if len(predicateTypes) == 0 || limit <= 0 {
		return nil, nil
	}
	return s.strings(ctx, unindexedSQL, predicateTypes, limit)
}

// unindexedSQL lists up to $2 records of the types $1 whose packages are
// not indexed: per type, from evidence_type_id in ID order (a lateral
// subquery, so the type is the index condition). As one filter over all
// types, PostgreSQL walked the primary key in ID order expecting to stop
// soon, and read every record when all were indexed.
const unindexedSQL = `SELECT u.id FROM unnest($1::text[]) AS t(predicate_type)
	CROSS JOIN LATERAL (SELECT e.id FROM evidence e WHERE e.predicate_type = t.predicate_type
		AND NOT EXISTS (SELECT 1 FROM packages_indexed i WHERE i.evidence_id = e.id) ORDER BY e.id LIMIT $2) AS u
	ORDER BY u.id LIMIT $2`

// subjectsWithPackagesSQL finds the subjects of the records listing any
// of the packages ($1 ecosystems, $2 names), through packages_name, and
// reads them from the records' rows (migration 6).
const subjectsWithPackagesSQL = `SELECT DISTINCT (j.r->>1) || ':' || (j.r->>2) AS subject FROM packages p
	JOIN evidence e ON e.id = p.evidence_id, json_array_elements(e.subjects) AS j(r)
	WHERE (p.ecosystem, p.name) IN (SELECT * FROM unnest($1::text[], $2::text[]))
	ORDER BY 1`

// SubjectsWithPackages returns the subjects of indexed records listing any
// of pkgs.
func (s *Store) SubjectsWithPackages(ctx context.Context, pkgs []store.Package) ([]string, error) {
	if len(pkgs) == 0 {
		return nil, nil
	}
	ecos, names := packageColumns(pkgs)
	return s.strings(ctx, subjectsWithPackagesSQL, ecos, names)
}

// packageColumns are the ecosystems and names of pkgs.
func packageColumns(pkgs []store.Package) (ecos, names []string) {
	ecos, names = make([]string, len(pkgs)), make([]string, len(pkgs))
	for i, p := range pkgs {
		ecos[i], names[i] = p.Ecosystem, p.Name
	}
	return ecos, names
}

// SubjectsIndexed returns which subjects some indexed record is about.
func (s *Store) SubjectsIndexed(ctx context.Context, subjects []string) ([]string, error) {
	if len(subjects) == 0 {
		return nil, nil
	}
	algs, digests, err := subjectColumns(subjects)
	if err != nil {
		return nil, err
	}
	return s.strings(ctx, subjectsIndexedSQL, algs, digests)
}

// subjectsIndexedSQL finds which of the subjects ($1 algorithms, $2
// digests) some indexed record is about, through subjects_digest.
const subjectsIndexedSQL = `SELECT DISTINCT s.alg || ':' || s.digest FROM subjects s
	JOIN packages_indexed i ON i.evidence_id = s.evidence_id
	WHERE (s.alg, s.digest) IN (SELECT * FROM unnest($1::text[], $2::text[]))
	ORDER BY 1`

// subjectColumns are the algorithms and digests of subjects ("sha256:HEX").
func subjectColumns(subjects []string) (algs, digests []string, err error) {
	algs, digests = make([]string, len(subjects)), make([]string, len(subjects))
	for i, sub := range subjects {
		d, err := digest.Parse(sub)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: subject %q: %w", store.ErrBadQuery, sub, err)
		}
		algs[i], digests[i] = d.Algorithm(), d.Hex()
	}
	return algs, digests, nil
}

// strings runs a query returning one text column.
func (s *Store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query package index: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("query package index: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
