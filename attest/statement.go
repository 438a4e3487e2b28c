package attest

import (
	"encoding/json"
	"fmt"
	"google.golang.org/protobuf/proto"
	"sort"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// PayloadType is the DSSE payload type of an in-toto Statement.
const PayloadType = "application/vnd.in-toto+json"

// BundleMediaType is the media type of the Sigstore bundles Hallmark writes.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Subject is one artifact a statement is about: a name and its digests
// (algorithm -> lower-case hex, e.g. "sha256" -> "ab12...").
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// SHA256 is the subject's sha256 digest, typed; an error when it has none
// or a malformed one.
func (s Subject) SHA256() (digest.Digest, error) {
	return digest.New(digest.SHA256, s.Digest[digest.SHA256])
}

// NewStatement builds and validates an in-toto Statement v1. The predicate
// must be a JSON object.
func NewStatement(subjects []Subject, predicateType string, predicate json.RawMessage) (*intoto.Statement, error) {
	if len(subjects) == 0 {
		return nil, fmt.Errorf("%w: no subjects", ErrStatement)
	}
	if len(subjects) > limits.MaxSubjects {
		return nil, fmt.Errorf("%w: %d subjects (limit %d)", ErrTooLarge, len(subjects), limits.MaxSubjects)
	}
	if err := checkStrictJSON(predicate); err != nil {
		return nil, fmt.Errorf("predicate: %w", err)
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(predicate, pred); err != nil {
		return nil, fmt.Errorf("%w: predicate is not a JSON object: %v", ErrMalformed, err)
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		PredicateType: predicateType,
		Predicate:     pred,
	}
	for _, s := range subjects {
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: s.Name, Digest: s.Digest})
	}
	if err := validateStatement(st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	return st, nil
}

// subjectJSON is a subject of a Statement v1 as JSON.
type subjectJSON struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// predicateStatement validates a Statement v1 about subjects with
// predicate (marshaled by encoding/json) as NewStatement does and
// serializes it directly, without a protobuf Struct. The statement it
// returns has no predicate. Unlike NewStatement's caller-supplied JSON, the
// predicate is not checked for duplicate keys: encoding/json writes none
// for Go structs and maps, the values SignPredicate is for, and Verify
// checks every stored payload again when it is read.
func predicateStatement(subjects []Subject, predicateType string, predicate any) (*intoto.Statement, []byte, error) {
	if len(subjects) == 0 {
		return nil, nil, fmt.Errorf("%w: no subjects", ErrStatement)
	}
	if len(subjects) > limits.MaxSubjects {
		return nil, nil, fmt.Errorf("%w: %d subjects (limit %d)", ErrTooLarge, len(subjects), limits.MaxSubjects)
	}
	pred, err := json.Marshal(predicate)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: predicate: %v", ErrMalformed, err)
	}
	if len(pred) == 0 || pred[0] != '{' {
		return nil, nil, fmt.Errorf("%w: predicate is not a JSON object", ErrMalformed)
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: predicateType}
	subs := make([]subjectJSON, 0, len(subjects))
	for _, s := range subjects {
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: s.Name, Digest: s.Digest})
		subs = append(subs, subjectJSON{Name: s.Name, Digest: s.Digest})
	}
	// Validate as a statement with some predicate: what is checked here is
	// the type, the subjects and the predicate type.
	check := &intoto.Statement{Type: st.Type, Subject: st.Subject, PredicateType: st.PredicateType, Predicate: &structpb.Struct{}}
	if err := check.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	subJSON, err := json.Marshal(subs)
	if err != nil {
		return nil, nil, fmt.Errorf("encode statement subjects: %w", err)
	}
	typeJSON, err := json.Marshal(predicateType)
	if err != nil {
		return nil, nil, fmt.Errorf("encode predicate type: %w", err)
	}
	// The fields in the order protojson writes them; pred is already
	// compact JSON, so it is appended as it is rather than scanned again.
	payload := make([]byte, 0, len(subJSON)+len(typeJSON)+len(pred)+80)
	payload = append(payload, `{"_type":"`+intoto.StatementTypeUri+`","subject":`...)
	payload = append(payload, subJSON...)
	payload = append(payload, `,"predicateType":`...)
	payload = append(payload, typeJSON...)
	payload = append(payload, `,"predicate":`...)
	payload = append(payload, pred...)
	payload = append(payload, '}')
	if len(payload) > limits.MaxStatementBytes {
		return nil, nil, fmt.Errorf("%w: statement of %d bytes (limit %d)", ErrTooLarge, len(payload), limits.MaxStatementBytes)
	}
	return st, payload, nil
}

// Subjects returns the statement's subjects in a plain form, sorted by name.
func Subjects(st *intoto.Statement) []Subject {
	out := make([]Subject, 0, len(st.GetSubject()))
	for _, rd := range st.GetSubject() {
		d := make(map[string]string, len(rd.GetDigest()))
		for k, v := range rd.GetDigest() {
			d[k] = v
		}
		out = append(out, Subject{Name: rd.GetName(), Digest: d})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// parseStatement decodes and validates a Statement payload.
func parseStatement(payload []byte) (*intoto.Statement, error) {
	if len(payload) > limits.MaxStatementBytes {
		return nil, fmt.Errorf("%w: statement of %d bytes (limit %d)", ErrTooLarge, len(payload), limits.MaxStatementBytes)
	}
	// protojson rejects duplicate keys (also inside the predicate Struct),
	// unknown fields, invalid UTF-8 and trailing data, but accepts proto
	// field names ("predicate_type") that no JSON reader of the statement
	// looks for: refuse those first.
	st := &intoto.Statement{}
	if err := strictjson.CheckProto(payload, st.ProtoReflect().Descriptor()); err != nil {
		return nil, fmt.Errorf("%w: statement: %w", ErrMalformed, err)
	}
	if err := protoJSON.Unmarshal(payload, st); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrMalformed, err)
	}
	if err := validateStatement(st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	if len(st.GetSubject()) > limits.MaxSubjects {
		return nil, fmt.Errorf("%w: %d subjects (limit %d)", ErrTooLarge, len(st.GetSubject()), limits.MaxSubjects)
	}
	return st, nil
}

// rawPredicate returns the predicate's JSON from a statement payload that
// parseStatement accepted (Verify) or that this package serialized (the
// signing functions): the only two ways a Verified gets a payload. That
// check already refused duplicate keys, keys that match a field only
// without case, and trailing data, so a plain decode finds the one
// "predicate" key a strict decode would; checking the payload again
// cost a cold admission miss a tenth of its CPU (docs/server.md).
func rawPredicate(payload []byte) (json.RawMessage, error) {
	var raw struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrMalformed, err)
	}
	if len(raw.Predicate) == 0 || string(raw.Predicate) == "null" {
		return json.RawMessage("{}"), nil
	}
	return raw.Predicate, nil
}

// marshalStatement serializes a statement as the DSSE payload.
func marshalStatement(st *intoto.Statement) ([]byte, error) {
	b, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	return b, nil
}

// checkStrictJSON refuses duplicate keys, excessive nesting and trailing
// data (see strictjson.Check), as ErrMalformed.
func checkStrictJSON(b []byte) error {
	if err := strictjson.Check(b); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// StatementTypeV01 is in-toto Statement v0.1, which npm and early GitHub
// provenance use. Its JSON shape is v1's (subject, predicateType,
// predicate); v1 only added optional resource-descriptor fields.
const StatementTypeV01 = "https://in-toto.io/Statement/v0.1"

// validateStatement validates st as a Statement v1, or as v0.1 under v1's
// rules.
func validateStatement(st *intoto.Statement) error {
	if st.GetType() != StatementTypeV01 {
		return st.Validate()
	}
	v1 := proto.Clone(st).(*intoto.Statement)
	v1.Type = intoto.StatementTypeUri
	return v1.Validate()
}
