package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// CheckProto checks b (see Check) and that every key names a field of md
// (recursively) by its JSON name. protojson also accepts the proto field name
// ("predicate_type" for "predicateType"), which no JSON reader of the
// published schema looks for; such keys are refused with ErrKeyCase, keys md
// does not define with ErrUnknownKey. Well-known types (Struct, Value,
// Timestamp, ...) are not looked into.
func CheckProto(b []byte, md protoreflect.MessageDescriptor) error {
	if err := Check(b); err != nil {
		return err
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return checkProto(tree, md, "$")
}

func checkProto(v any, md protoreflect.MessageDescriptor, path string) error {
	if md.ParentFile().Package() == "google.protobuf" {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil // a type mismatch: protojson reports it
	}
	fields := md.Fields()
	for _, k := range sortedKeys(m) {
		fd := fields.ByJSONName(k)
		if fd == nil {
			if alt := fields.ByTextName(k); alt != nil {
				return fmt.Errorf("%w: %q at %s (the field is %q)", ErrKeyCase, k, path, alt.JSONName())
			}
			for i := range fields.Len() {
				if name := fields.Get(i).JSONName(); bytes.EqualFold([]byte(name), []byte(k)) {
					return fmt.Errorf("%w: %q at %s (the field is %q)", ErrKeyCase, k, path, name)
				}
			}
			return fmt.Errorf("%w: %q at %s", ErrUnknownKey, k, path)
		}
		sub := path + "." + k
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				continue
			}
			mm, ok := m[k].(map[string]any)
			if !ok {
				continue
			}
			for _, mk := range sortedKeys(mm) {
				if err := checkProto(mm[mk], fd.MapValue().Message(), sub+"."+mk); err != nil {
					return err
				}
			}
		case fd.Message() == nil:
		case fd.IsList():
			arr, ok := m[k].([]any)
			if !ok {
				continue
			}
			for i, e := range arr {
				if err := checkProto(e, fd.Message(), fmt.Sprintf("%s[%d]", sub, i)); err != nil {
					return err
				}
			}
		default:
			if err := checkProto(m[k], fd.Message(), sub); err != nil {
				return err
			}
		}
	}
	return nil
}
