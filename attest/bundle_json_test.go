package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/keys"
)

// protojsonDSSEBundle is the reference for appendDSSEBundle: the bundle
// sigstore-go's sign.Bundle builds for DSSE data and a key with no log or
// timestamp authority, marshaled by protojson and compacted (protojson may
// put a space after each comma, depending on a hash of the binary).
func protojsonDSSEBundle(t testing.TB, hint, payloadType string, payload, sig []byte) ([]byte, error) {
	t.Helper()
	pb := &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: payloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	raw, err := protojson.Marshal(pb)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		t.Fatalf("protojson wrote invalid JSON: %v\n%s", err, raw)
	}
	return out.Bytes(), nil
}

func checkDSSEBundle(t testing.TB, hint, payloadType string, payload, sig []byte) {
	t.Helper()
	want, wantErr := protojsonDSSEBundle(t, hint, payloadType, payload, sig)
	got, err := appendDSSEBundle(nil, hint, payloadType, payload, sig)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("appendDSSEBundle(%q, %q, %q, %q) error %v, protojson error %v", hint, payloadType, payload, sig, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendDSSEBundle(%q, %q, %q, %q) =\n%s\nprotojson:\n%s", hint, payloadType, payload, sig, got, want)
	}
}

// TestAppendDSSEBundleMatchesProtojson: the hand-written bundle encoder
// writes exactly protojson's bytes (less its optional spaces), including
// its string escapes, which differ from encoding/json's, and its omission
// of empty fields.
func TestAppendDSSEBundleMatchesProtojson(t *testing.T) {
	var ctl strings.Builder
	for c := range 0x20 {
		ctl.WriteByte(byte(c))
	}
	ctl.WriteString("\x7f\"\\/<>&\u2028\u2029\ufffd\U0001F600é")
	long := bytes.Repeat([]byte(`{"_type":"https://in-toto.io/Statement/v1"}`), 500)
	for _, tc := range []struct {
		name, hint, payloadType string
		payload, sig            []byte
	}{
		{"typical", strings.Repeat("ab12", 16), PayloadType, []byte(`{"a":1}`), []byte{0x30, 0x45, 0x02, 0xff}},
		{"long payload", "k", PayloadType, long, bytes.Repeat([]byte{0xfb}, 512)},
		{"payload lengths mod 3", "k", "t", []byte("ab"), []byte("abcd")},
		{"escapes in hint", ctl.String(), PayloadType, []byte("x"), []byte("y")},
		{"escapes in payload type", "k", ctl.String(), []byte("x"), []byte("y")},
		{"empty hint", "", PayloadType, []byte("x"), []byte("y")},
		{"empty payload", "k", PayloadType, nil, []byte("y")},
		{"empty payload type", "k", "", []byte("x"), []byte("y")},
		{"empty signature", "k", PayloadType, []byte("x"), nil},
		{"all empty", "", "", nil, nil},
		{"invalid UTF-8 hint", "k\xff", PayloadType, []byte("x"), []byte("y")},
		{"invalid UTF-8 payload type", "k", "t\xc3", []byte("x"), []byte("y")},
	} {
		t.Run(tc.name, func(t *testing.T) { checkDSSEBundle(t, tc.hint, tc.payloadType, tc.payload, tc.sig) })
	}
}

// FuzzAppendDSSEBundle: for any hint, payload type, payload and signature
// the encoder writes what protojson writes, or fails where it fails.
func FuzzAppendDSSEBundle(f *testing.F) {
	f.Add("ab12", PayloadType, []byte(`{"a":1}`), []byte{1, 2, 3})
	f.Add("", "", []byte{}, []byte{})
	f.Add("\x00\x1f\"\\\u2028", "\xff", []byte{0}, []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, hint, payloadType string, payload, sig []byte) {
		checkDSSEBundle(t, hint, payloadType, payload, sig)
	})
}

// TestSignWritesCompactProtojson: a key-signed bundle is byte for byte
// what protojson writes for the bundle it decodes to, compacted; so its
// bytes, and its ID, do not depend on the binary that signed it, as
// protojson's optional spaces after commas do.
func TestSignWritesCompactProtojson(t *testing.T) {
	for _, alg := range keys.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k, err := keys.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			st, err := NewStatement([]Subject{{Name: "a", Digest: map[string]string{"sha256": strings.Repeat("0a", 32)}}}, "https://example.com/p", []byte(`{"k":"<&>"}`))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := Sign(context.Background(), k, st)
			if err != nil {
				t.Fatal(err)
			}
			var pb protobundle.Bundle
			if err := protojson.Unmarshal(raw, &pb); err != nil {
				t.Fatal(err)
			}
			env := pb.GetDsseEnvelope()
			if hint := pb.GetVerificationMaterial().GetPublicKey().GetHint(); hint != k.Public().ID() {
				t.Errorf("hint %q, want the key ID %q", hint, k.Public().ID())
			}
			if len(env.GetSignatures()) != 1 || env.GetPayloadType() != PayloadType {
				t.Fatalf("envelope %v", env)
			}
			want, err := protojsonDSSEBundle(t, k.Public().ID(), PayloadType, env.GetPayload(), env.GetSignatures()[0].GetSig())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("Sign wrote\n%s\nprotojson, compacted:\n%s", raw, want)
			}
		})
	}
}
