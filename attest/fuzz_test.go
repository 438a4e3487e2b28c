package attest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/hallmark-dev/hallmark/keys"
)

// fuzzSeeds signs one statement so the fuzzers start from valid input.
func fuzzSeeds(f *testing.F) (bundle []byte, payload []byte, trust *KeySet, key *keys.PrivateKey) {
	k, err := keys.Generate(keys.ECDSAP256)
	if err != nil {
		f.Fatal(err)
	}
	st, err := NewStatement([]Subject{{Name: "a", Digest: map[string]string{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}}, "https://example.com/p", []byte(`{"k":[1,2,{"x":null}]}`))
	if err != nil {
		f.Fatal(err)
	}
	b, err := Sign(context.Background(), k, st)
	if err != nil {
		f.Fatal(err)
	}
	p, _ := marshalStatement(st)
	return b, p, NewKeySet(k.Public()), k
}

// FuzzVerifyBundle: no input makes Verify panic, and anything it accepts is
// a valid statement signed by the trusted key.
func FuzzVerifyBundle(f *testing.F) {
	good, _, trust, _ := fuzzSeeds(f)
	f.Add(good)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{"payloadType":"x","payload":"","signatures":[{"sig":"AA=="}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Verify(context.Background(), b, trust)
		if err != nil {
			return
		}
		if len(v.Signers) == 0 || v.Statement.Validate() != nil || v.PredicateType == "" {
			t.Fatalf("accepted invalid evidence: %+v", v)
		}
	})
}

// FuzzVerifyEnvelope: arbitrary DSSE envelopes never panic the decoder or
// the signature loop.
func FuzzVerifyEnvelope(f *testing.F) {
	_, payload, trust, _ := fuzzSeeds(f)
	f.Add("application/vnd.in-toto+json", base64.StdEncoding.EncodeToString(payload), "MEUCIQ==", "")
	f.Add("", "", "", "kid")
	f.Fuzz(func(t *testing.T, payloadType, payload, sig, keyID string) {
		env := `{"payloadType":` + quote(payloadType) + `,"payload":` + quote(payload) + `,"signatures":[{"keyid":` + quote(keyID) + `,"sig":` + quote(sig) + `}]}`
		if _, err := VerifyEnvelope(context.Background(), []byte(env), trust); err == nil {
			t.Fatalf("a forged envelope verified: %s", env)
		}
	})
}

// FuzzParseStatement: the statement decoder never panics, and what it
// accepts validates.
func FuzzParseStatement(f *testing.F) {
	_, payload, _, _ := fuzzSeeds(f)
	f.Add(payload)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}],"predicateType":"x"}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStatement(b)
		if err != nil {
			return
		}
		if pred, err := rawPredicate(b); st.Validate() != nil || err != nil || len(pred) == 0 {
			t.Fatalf("accepted an invalid statement: %s", b)
		}
	})
}

// quote encodes s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
