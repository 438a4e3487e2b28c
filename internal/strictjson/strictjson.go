package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Errors returned by this package, for errors.Is.
var (
	// ErrSyntax: not a single well-formed JSON value, or nested too deep.
	ErrSyntax = errors.New("malformed JSON")
	// ErrDuplicateKey: an object has the same key twice.
	ErrDuplicateKey = errors.New("duplicate JSON key")
	// ErrKeyCase: a key differs from a field's name only in case (or by
	// Unicode case folding), or is a proto field name where the JSON name is
	// the schema's spelling.
	ErrKeyCase = errors.New("JSON key spelled differently from the schema")
	// ErrUnknownKey: a key the closed schema does not define.
	ErrUnknownKey = errors.New("unknown JSON key")
)

// Option changes how Decode judges keys.
type Option func(*config)

type config struct{ open bool }

// AllowUnknownKeys accepts (and ignores) keys the target type does not name.
// Use it for documents whose schema has extension points or that a third
// party writes (CycloneDX, SPDX, in-toto vulns): the part Hallmark reads is
// still matched exactly, and a key that differs from a read field only in
// case is still refused.
func AllowUnknownKeys() Option { return func(c *config) { c.open = true } }

// Check refuses duplicate object keys, nesting deeper than
// limits.MaxJSONDepth and any data after the single top-level value.
//
// Well-formed input (json.Valid) is walked byte by byte (valid.go); only
// input that is not is walked with json.Decoder's tokens, which name the
// syntax error. Both agree on every input (FuzzCheckAgrees).
func Check(b []byte) error {
	if json.Valid(b) {
		return checkValid(b)
	}
	if err := checkTokens(b); err != nil {
		return err
	}
	return fmt.Errorf("%w: not a single JSON value", ErrSyntax)
}

// checkTokens is Check by json.Decoder's tokens.
func checkTokens(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walkTokens(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrSyntax)
	}
	return nil
}

func walkTokens(dec *json.Decoder, depth int) error {
	if depth > limits.MaxJSONDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrSyntax, limits.MaxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%w: %v", ErrSyntax, err)
			}
			k, ok := kt.(string)
			if !ok {
				return fmt.Errorf("%w: object key is not a string", ErrSyntax)
			}
			if seen[k] {
				return fmt.Errorf("%w: %q", ErrDuplicateKey, k)
			}
			seen[k] = true
			if err := walkTokens(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		for dec.More() {
			if err := walkTokens(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}

// Decode checks b (see Check), then checks every object key against the
// fields of out's type with exact case, then decodes b into out with
// encoding/json. Without AllowUnknownKeys, a key out's type does not name
// is refused. Keys below a field whose type is an interface, a map of
// interfaces, json.RawMessage or another json.Unmarshaler are not checked
// here: that type decides.
func Decode(b []byte, out any, opts ...Option) error {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if err := Check(b); err != nil {
		return err
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("strictjson: Decode needs a non-nil pointer, got %T", out)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if err := checkKeys(tree, rv.Type().Elem(), "$", c.open); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	if !c.open {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func checkKeys(v any, t reflect.Type, path string, open bool) error {
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || t.Implements(jsonUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkKeys(v, t.Elem(), path, open)
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return nil // a type mismatch: encoding/json reports it
		}
		for i, e := range arr {
			if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), open); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range sortedKeys(m) {
			if err := checkKeys(m[k], t.Elem(), path+"."+k, open); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := fieldsOf(t)
		for _, k := range sortedKeys(m) {
			if ft, ok := fields[k]; ok {
				if err := checkKeys(m[k], ft, path+"."+k, open); err != nil {
					return err
				}
				continue
			}
			for name := range fields {
				if strings.EqualFold(name, k) {
					return fmt.Errorf("%w: %q at %s (the field is %q)", ErrKeyCase, k, path, name)
				}
			}
			if !open {
				return fmt.Errorf("%w: %q at %s", ErrUnknownKey, k, path)
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldsOf maps the JSON names encoding/json decodes into t to their types,
// following its rules for tags and embedded structs (outer fields win).
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	for _, et := range embedded {
		for k, v := range fieldsOf(et) {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	fieldCache.Store(t, out)
	return out
}
