package provenance

import (
	"encoding/json"
	"fmt"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// marshalOptions renders field names as the SLSA spec spells them.
var marshalOptions = protojson.MarshalOptions{UseProtoNames: false}

// JSON renders a protobuf message (a predicate or a statement) as JSON with
// the camelCase field names of the specifications, re-encoded through
// encoding/json so the bytes are stable (sorted keys, no random spacing).
func JSON(m proto.Message) ([]byte, error) {
	b, err := marshalOptions.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("provenance: marshal: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("provenance: re-encode: %w", err)
	}
	return json.Marshal(v)
}

func toStruct(p *slsa.Provenance) (*structpb.Struct, error) {
	b, err := marshalOptions.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("provenance: marshal predicate: %w", err)
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("provenance: predicate to struct: %w", err)
	}
	return s, nil
}
