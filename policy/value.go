package policy

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

var textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()

// toValue converts a Go value to a Rego value following encoding/json's
// field names and omitempty, except that nil slices and maps become empty
// arrays and objects, so that policies never meet null where a collection
// belongs. It avoids a JSON round trip on the evaluation hot path.
func toValue(v reflect.Value) (*ast.Term, error) {
	if !v.IsValid() {
		return ast.NullTerm(), nil
	}
	if v.Type().Implements(textMarshalerType) && (v.Kind() != reflect.Pointer || !v.IsNil()) {
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return nil, err
		}
		return ast.StringTerm(string(b)), nil
	}
	switch v.Kind() {
	case reflect.Bool:
		return ast.BooleanTerm(v.Bool()), nil
	case reflect.String:
		return ast.StringTerm(v.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ast.NumberTerm(json.Number(strconv.FormatInt(v.Int(), 10))), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ast.NumberTerm(json.Number(strconv.FormatUint(v.Uint(), 10))), nil
	case reflect.Float32, reflect.Float64:
		return ast.FloatNumberTerm(v.Float()), nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ast.NullTerm(), nil
		}
		return toValue(v.Elem())
	case reflect.Slice, reflect.Array:
		terms := make([]*ast.Term, v.Len())
		for i := range v.Len() {
			t, err := toValue(v.Index(i))
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			terms[i] = t
		}
		return ast.ArrayTerm(terms...), nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%w: map key type %s", ErrInput, v.Type().Key())
		}
		pairs := make([][2]*ast.Term, 0, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			t, err := toValue(iter.Value())
			if err != nil {
				return nil, fmt.Errorf("[%q]: %w", iter.Key().String(), err)
			}
			pairs = append(pairs, [2]*ast.Term{ast.StringTerm(iter.Key().String()), t})
		}
		return ast.ObjectTerm(pairs...), nil
	case reflect.Struct:
		var pairs [][2]*ast.Term
		if err := structFields(v, &pairs); err != nil {
			return nil, err
		}
		return ast.ObjectTerm(pairs...), nil
	default:
		return nil, fmt.Errorf("%w: unsupported Go type %s", ErrInput, v.Type())
	}
}

// structFields appends the JSON fields of struct v to pairs, inlining
// untagged embedded structs as encoding/json does.
func structFields(v reflect.Value, pairs *[][2]*ast.Term) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := structFields(fv, pairs); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmpty(fv) {
			continue
		}
		term, err := toValue(fv)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*pairs = append(*pairs, [2]*ast.Term{ast.StringTerm(name), term})
	}
	return nil
}

// isEmpty mirrors encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
