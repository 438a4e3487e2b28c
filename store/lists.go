package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/attest"
)

// SubjectRow is one digest of one of a record's subjects: its name, the
// digest's algorithm and its lower-case hex. Both stores keep a record's
// subjects as these rows: one row per digest in a table searched by
// digest, and the record's whole list, as JSON, in its own row.
type SubjectRow [3]string

// SubjectRows flattens a record's subjects into rows, one per digest.
func SubjectRows(subjects []attest.Subject) []SubjectRow {
	rows := []SubjectRow{} // JSON "[]" for none, never "null"
	for _, sub := range subjects {
		for alg, d := range sub.Digest {
			rows = append(rows, SubjectRow{sub.Name, alg, strings.ToLower(d)})
		}
	}
	return rows
}

// EncodeLists returns the JSON a store keeps in a record's row for its
// subjects ([[name, alg, digest], ...]) and its signers ([key ID, ...]).
func EncodeLists(rows []SubjectRow, signers []string) (subjectsJSON, signersJSON []byte, err error) {
	if signers == nil {
		signers = []string{}
	}
	if subjectsJSON, err = json.Marshal(rows); err != nil {
		return nil, nil, fmt.Errorf("encode subjects: %w", err)
	}
	if signersJSON, err = json.Marshal(signers); err != nil {
		return nil, nil, fmt.Errorf("encode signers: %w", err)
	}
	return subjectsJSON, signersJSON, nil
}

// DecodeLists sets r's subjects (one per name with a digest per algorithm,
// sorted by name) and signers (sorted) from the JSON EncodeLists wrote.
func DecodeLists(r *Record, subjectsJSON, signersJSON []byte) error {
	var rows []SubjectRow
	if err := json.Unmarshal(subjectsJSON, &rows); err != nil {
		return fmt.Errorf("read subjects of %s: %w", r.ID, err)
	}
	at := make(map[string]int, len(rows))
	r.Subjects = nil
	for _, row := range rows {
		name, alg, d := row[0], row[1], row[2]
		i, ok := at[name]
		if !ok {
			i = len(r.Subjects)
			at[name] = i
			r.Subjects = append(r.Subjects, attest.Subject{Name: name, Digest: map[string]string{}})
		}
		r.Subjects[i].Digest[alg] = d
	}
	slices.SortFunc(r.Subjects, func(a, b attest.Subject) int { return strings.Compare(a.Name, b.Name) })
	r.Signers = nil
	if err := json.Unmarshal(signersJSON, &r.Signers); err != nil {
		return fmt.Errorf("read signers of %s: %w", r.ID, err)
	}
	slices.Sort(r.Signers)
	return nil
}
