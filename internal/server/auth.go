package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// principal is who made a request.
type principal struct {
	name string
	role Role
}

// tokens checks bearer tokens against their configured SHA-256 hashes.
type tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	hash [sha256.Size]byte
	p    principal
}

func newTokens(cfg []TokenConfig) tokens {
	var t tokens
	for _, c := range cfg {
		var e tokenEntry
		b, _ := hex.DecodeString(c.SHA256) // validated by ParseConfig
		copy(e.hash[:], b)
		e.p = principal{name: c.Name, role: c.Role}
		t.entries = append(t.entries, e)
	}
	return t
}

// authenticate returns the principal of the request's bearer token: ok is
// false with no token, and bad is true with an unknown or malformed one.
// Every configured hash is compared, in constant time, whatever matches.
func (t tokens) authenticate(r *http.Request) (p principal, ok, bad bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{}, false, false
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return principal{}, false, true
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], t.entries[i].hash[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return principal{}, false, true
	}
	return t.entries[match].p, true, false
}

// may reports whether a role allows an action.
func (r Role) may(need Role) bool {
	switch need {
	case RoleReader:
		return r == RoleReader || r == RoleUploader || r == RoleAdmin
	case RoleUploader:
		return r == RoleUploader || r == RoleAdmin
	default:
		return r == RoleAdmin
	}
}

// HashToken returns the hex SHA-256 of a token, as the configuration
// stores it.
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}
