package attest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
)

// bundleDoc is a bundle decoded into generic JSON for surgery.
type bundleDoc map[string]any

func parseDoc(t *testing.T, b []byte) bundleDoc {
	t.Helper()
	var d bundleDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d bundleDoc) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d bundleDoc) env() map[string]any { return d["dsseEnvelope"].(map[string]any) }

func (d bundleDoc) sigs() []any { return d.env()["signatures"].([]any) }

func (d bundleDoc) payload(t *testing.T) []byte {
	b, err := base64.StdEncoding.DecodeString(d.env()["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resign replaces the payload and payload type and signs them with key, as
// an attacker holding that key would: the signature is valid, so whatever
// rejects the result is a check beyond the signature.
func resign(t *testing.T, d bundleDoc, key *keys.PrivateKey, payloadType string, payload []byte) []byte {
	t.Helper()
	sig, _, err := attest.Keypair(key).SignData(context.Background(), paeOf(payloadType, payload))
	if err != nil {
		t.Fatal(err)
	}
	d.env()["payloadType"] = payloadType
	d.env()["payload"] = base64.StdEncoding.EncodeToString(payload)
	d.env()["signatures"] = []any{map[string]any{"sig": base64.StdEncoding.EncodeToString(sig)}}
	return d.bytes(t)
}

func paeOf(pt string, p []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(pt)) + " " + pt + " " + strconv.Itoa(len(p)) + " ")
	b.Write(p)
	return b.Bytes()
}

// TestAttackCorpus: every tampering case is rejected with the error that
// names its problem.
func TestAttackCorpus(t *testing.T) {
	ctx := context.Background()
	trusted := attesttest.Key(t, keys.ECDSAP256)
	second := attesttest.Key(t, keys.ECDSAP256)
	attacker := attesttest.Key(t, keys.ECDSAP256)
	edKey := attesttest.Key(t, keys.Ed25519)
	art := []byte("release artifact")
	sub := attesttest.Subject("app", art)
	good := attesttest.Bundle(t, trusted, predType, map[string]any{"builder": "ci"}, sub)
	trust := attest.NewKeySet(trusted.Public())
	if _, err := attest.Verify(ctx, good, trust); err != nil {
		t.Fatalf("baseline bundle does not verify: %v", err)
	}
	other := attesttest.Bundle(t, trusted, predType, map[string]any{"builder": "evil"}, attesttest.Subject("app", []byte("malware")))
	goodPayload := parseDoc(t, good).payload(t)

	type tc struct {
		name  string
		input func(t *testing.T) []byte
		trust *attest.KeySet
		opts  []attest.VerifyOption
		want  error
	}
	cases := []tc{
		{"payload swapped for another signed payload", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d.env()["payload"] = parseDoc(t, other).env()["payload"]
			return d.bytes(t)
		}, trust, nil, attest.ErrSignature},
		{"signature from another key", func(t *testing.T) []byte {
			return attesttest.Bundle(t, attacker, predType, map[string]any{}, sub)
		}, trust, nil, attest.ErrUnknownKey},
		{"signature from another key, hint forged to the trusted key", func(t *testing.T) []byte {
			d := parseDoc(t, attesttest.Bundle(t, attacker, predType, map[string]any{}, sub))
			d["verificationMaterial"].(map[string]any)["publicKey"].(map[string]any)["hint"] = trusted.Public().ID()
			return d.bytes(t)
		}, trust, nil, attest.ErrSignature},
		{"payload type changed", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d.env()["payloadType"] = "text/plain"
			return d.bytes(t)
		}, trust, nil, attest.ErrSignature},
		{"payload type changed and validly re-signed", func(t *testing.T) []byte {
			return resign(t, parseDoc(t, good), trusted, "application/json", goodPayload)
		}, trust, nil, attest.ErrPayloadType},
		{"subject digest changed", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			p := bytes.Replace(goodPayload, []byte(sub.Digest["sha256"][:8]), []byte("00000000"), 1)
			d.env()["payload"] = base64.StdEncoding.EncodeToString(p)
			return d.bytes(t)
		}, trust, nil, attest.ErrSignature},
		{"one signature duplicated toward a 2-of-2 threshold", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			s := d.sigs()[0]
			d.env()["signatures"] = []any{s, s}
			return d.bytes(t)
		}, attest.NewKeySet(trusted.Public(), second.Public()), []attest.VerifyOption{attest.WithThreshold(2)}, attest.ErrThreshold},
		{"same key signing twice with fresh signatures toward 2-of-2", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			sig2, _, _ := attest.Keypair(trusted).SignData(ctx, paeOf(attest.PayloadType, goodPayload))
			d.env()["signatures"] = append(d.sigs(), map[string]any{"sig": base64.StdEncoding.EncodeToString(sig2), "keyid": "another-id"})
			return d.bytes(t)
		}, attest.NewKeySet(trusted.Public(), second.Public()), []attest.VerifyOption{attest.WithThreshold(2)}, attest.ErrThreshold},
		{"Ed25519 signature presented for an ECDSA key", func(t *testing.T) []byte {
			return resign(t, parseDoc(t, good), edKey, attest.PayloadType, goodPayload)
		}, trust, nil, attest.ErrSignature},
		{"ECDSA signature checked against an Ed25519 key with the same hint", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d["verificationMaterial"].(map[string]any)["publicKey"].(map[string]any)["hint"] = edKey.Public().ID()
			return d.bytes(t)
		}, attest.NewKeySet(edKey.Public()), nil, attest.ErrSignature},
		{"truncated input", func(t *testing.T) []byte { return good[:len(good)/2] }, trust, nil, attest.ErrMalformed},
		{"trailing garbage", func(t *testing.T) []byte { return append(append([]byte{}, good...), []byte(`{"x":1}`)...) }, trust, nil, attest.ErrMalformed},
		{"duplicate JSON key in the bundle", func(t *testing.T) []byte {
			return bytes.Replace(good, []byte(`{"mediaType":`), []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.1+json","mediaType":`), 1)
		}, trust, nil, attest.ErrMalformed},
		{"duplicate JSON key inside a validly signed statement", func(t *testing.T) []byte {
			p := bytes.Replace(goodPayload, []byte(`"predicateType":`), []byte(`"predicateType":"https://evil.example/x","predicateType":`), 1)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrMalformed},
		// PredicateJSON takes the predicate out with a plain decode, which
		// keeps the last of two "predicate" keys: only Verify refusing the
		// second key (also when escaped) keeps it from choosing one.
		{"second predicate key inside a validly signed statement", func(t *testing.T) []byte {
			p := bytes.Replace(goodPayload, []byte(`"predicate":`), []byte(`"predicate":{"builder":"evil"},"predicate":`), 1)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrMalformed},
		{"second predicate key spelled with an escape inside a validly signed statement", func(t *testing.T) []byte {
			p := bytes.Replace(goodPayload, []byte(`"predicate":`), []byte(`"predic\u0061te":{"builder":"evil"},"predicate":`), 1)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrMalformed},
		{"proto field name predicate_type inside a validly signed statement", func(t *testing.T) []byte {
			// protojson accepts "predicate_type"; jq and OPA read .predicateType.
			p := bytes.Replace(goodPayload, []byte(`"predicateType":`), []byte(`"predicate_type":`), 1)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrMalformed},
		{"statement key differing only in case (Predicate) inside a validly signed statement", func(t *testing.T) []byte {
			p := bytes.Replace(goodPayload, []byte(`"predicate":`), []byte(`"Predicate":{"builder":"evil"},"predicate":`), 1)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrMalformed},
		{"oversized input", func(t *testing.T) []byte {
			return append([]byte(`{"mediaType":"`), bytes.Repeat([]byte("a"), limits.MaxBundleBytes)...)
		}, trust, nil, attest.ErrTooLarge},
		{"payload not base64", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d.env()["payload"] = "!!not base64!!"
			return d.bytes(t)
		}, trust, nil, attest.ErrEncoding},
		{"signature not base64", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d.sigs()[0].(map[string]any)["sig"] = "@@@"
			return d.bytes(t)
		}, trust, nil, attest.ErrEncoding},
		{"no signatures", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d.env()["signatures"] = []any{}
			return d.bytes(t)
		}, trust, nil, attest.ErrNoSignature},
		{"empty signature", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d.sigs()[0].(map[string]any)["sig"] = ""
			return d.bytes(t)
		}, trust, nil, attest.ErrNoSignature},
		{"unsupported bundle media type", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=9.9"
			return d.bytes(t)
		}, trust, nil, attest.ErrMediaType},
		{"statement _type is not in-toto v1", func(t *testing.T) []byte {
			p := bytes.Replace(goodPayload, []byte("https://in-toto.io/Statement/v1"), []byte("https://in-toto.io/Statement/v0.9"), 1)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrStatement},
		{"statement with no subjects", func(t *testing.T) []byte {
			p := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"` + predType + `","predicate":{}}`)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrStatement},
		{"subject digest that is not hex", func(t *testing.T) []byte {
			p := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"zz"}}],"predicateType":"` + predType + `","predicate":{}}`)
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, p)
		}, trust, nil, attest.ErrStatement},
		{"payload is not JSON", func(t *testing.T) []byte {
			return resign(t, parseDoc(t, good), trusted, attest.PayloadType, []byte("hello"))
		}, trust, nil, attest.ErrMalformed},
		{"unknown field in the bundle", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			d["extraTrust"] = true
			return d.bytes(t)
		}, trust, nil, attest.ErrMalformed},
		{"message signature instead of an envelope", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			delete(d, "dsseEnvelope")
			d["messageSignature"] = map[string]any{"signature": "AAAA"}
			return d.bytes(t)
		}, trust, nil, attest.ErrMalformed},
		{"deeply nested JSON", func(t *testing.T) []byte {
			return []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
		}, trust, nil, attest.ErrMalformed},
		{"empty input", func(t *testing.T) []byte { return []byte("  ") }, trust, nil, attest.ErrMalformed},
		{"no trusted keys at all", func(t *testing.T) []byte { return good }, attest.NewKeySet(), nil, attest.ErrUnknownKey},
		{"too many signatures", func(t *testing.T) []byte {
			d := parseDoc(t, good)
			var many []any
			for range limits.MaxSignatures + 1 {
				many = append(many, d.sigs()[0])
			}
			d.env()["signatures"] = many
			return d.bytes(t)
		}, trust, nil, attest.ErrTooLarge},
		{"invalid UTF-8 in the bundle", func(t *testing.T) []byte {
			return bytes.Replace(good, []byte(`"hint":"`), []byte("\"hint\":\"\xff"), 1)
		}, trust, nil, attest.ErrMalformed},
	}
	if len(cases) < 20 {
		t.Fatalf("attack corpus has %d cases; the foundation requires at least 20", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := attest.Verify(ctx, c.input(t), c.trust, c.opts...)
			if err == nil {
				t.Fatalf("accepted: %+v", v.Statement)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var ae *attest.Error
			if !errors.As(err, &ae) || ae.Input == "" {
				t.Errorf("error does not name the input: %v", err)
			}
		})
	}

	t.Run("subject mismatch on a valid bundle", func(t *testing.T) {
		v, err := attest.Verify(ctx, good, trust)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.CheckArtifact("malware.bin", attesttest.Subject("x", []byte("malware")).Digest["sha256"]); !errors.Is(err, attest.ErrSubjectMismatch) {
			t.Errorf("err = %v, want ErrSubjectMismatch", err)
		}
	})
	t.Run("2-of-2 by distinct keys passes", func(t *testing.T) {
		d := parseDoc(t, good)
		sig2, _, _ := attest.Keypair(second).SignData(ctx, paeOf(attest.PayloadType, goodPayload))
		d.env()["signatures"] = append(d.sigs(), map[string]any{"sig": base64.StdEncoding.EncodeToString(sig2)})
		// Bundles carry one signature by specification, so check the
		// threshold on the bare envelope.
		env, _ := json.Marshal(d.env())
		v, err := attest.Verify(ctx, env, attest.NewKeySet(trusted.Public(), second.Public()), attest.WithThreshold(2))
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Signers) != 2 {
			t.Errorf("%d signers", len(v.Signers))
		}
	})
}
