package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// digestDomain separates Hallmark policy digests from other SHA-256 uses.
const digestDomain = "hallmark.dev/policy-digest/v1"

// policyDigest hashes, with length prefixes, the domain, every module's name
// and source in name order, the entrypoint and the canonical JSON of the data
// document (encoding/json sorts object keys).
func policyDigest(modules []Module, entrypoint string, data map[string]any) (string, error) {
	sorted := slices.Clone(modules)
	slices.SortFunc(sorted, func(a, b Module) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	write := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	write([]byte(digestDomain))
	for _, m := range sorted {
		write([]byte(m.Name))
		write(m.Source)
	}
	write([]byte(entrypoint))
	doc, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("%w: data document: %w", ErrOption, err)
	}
	write(doc)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// normalizeData round-trips the data document through JSON so the store
// holds only JSON types and unsupported Go values are refused up front.
func normalizeData(doc map[string]any) (map[string]any, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: data document is not JSON: %w", ErrOption, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: data document: %w", ErrOption, err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}
