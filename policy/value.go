package policy

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

var textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()

// toValue converts a Go value to a Rego value following encoding/json's
// field names and omitempty, except that nil slices and maps become empty
// arrays and objects, so that policies never meet null where a collection
// belongs. It avoids a JSON round trip on the evaluation hot path.
func toValue(v reflect.Value) (*ast.Term, error) {
	var c converter
	return c.value(v, 0)
}

// converter allocates terms in slabs and reuses one pair buffer per nesting
// depth (ast.NewObject copies the pairs), which removes about a third of
// the allocations of converting a large input.
type converter struct {
	slab []ast.Term
	bufs [][][2]*ast.Term
}

func (c *converter) term(v ast.Value) *ast.Term {
	if len(c.slab) == 0 {
		c.slab = make([]ast.Term, 512)
	}
	t := &c.slab[0]
	c.slab = c.slab[1:]
	t.Value = v
	return t
}

func (c *converter) pairs(depth int) [][2]*ast.Term {
	for len(c.bufs) <= depth {
		c.bufs = append(c.bufs, make([][2]*ast.Term, 0, 16))
	}
	return c.bufs[depth][:0]
}

func (c *converter) value(v reflect.Value, depth int) (*ast.Term, error) {
	if !v.IsValid() {
		return ast.NullTerm(), nil
	}
	if v.Type().Implements(textMarshalerType) && (v.Kind() != reflect.Pointer || !v.IsNil()) {
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return nil, err
		}
		return c.term(ast.String(b)), nil
	}
	switch v.Kind() {
	case reflect.Bool:
		return ast.BooleanTerm(v.Bool()), nil
	case reflect.String:
		return c.term(ast.String(v.String())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return c.term(ast.Number(strconv.FormatInt(v.Int(), 10))), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return c.term(ast.Number(strconv.FormatUint(v.Uint(), 10))), nil
	case reflect.Float32, reflect.Float64:
		return ast.FloatNumberTerm(v.Float()), nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ast.NullTerm(), nil
		}
		return c.value(v.Elem(), depth)
	case reflect.Slice, reflect.Array:
		terms := make([]*ast.Term, v.Len())
		for i := range v.Len() {
			t, err := c.value(v.Index(i), depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			terms[i] = t
		}
		return c.term(ast.NewArray(terms...)), nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%w: map key type %s", ErrInput, v.Type().Key())
		}
		pairs := c.pairs(depth)
		iter := v.MapRange()
		for iter.Next() {
			t, err := c.value(iter.Value(), depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%q]: %w", iter.Key().String(), err)
			}
			pairs = append(pairs, [2]*ast.Term{c.term(ast.String(iter.Key().String())), t})
		}
		c.bufs[depth] = pairs
		return c.term(ast.NewObject(pairs...)), nil
	case reflect.Struct:
		pairs := c.pairs(depth)
		if err := c.structFields(v, &pairs, depth); err != nil {
			return nil, err
		}
		c.bufs[depth] = pairs
		return c.term(ast.NewObject(pairs...)), nil
	default:
		return nil, fmt.Errorf("%w: unsupported Go type %s", ErrInput, v.Type())
	}
}

// field describes one JSON field of a struct type.
type field struct {
	index     int
	key       *ast.Term // shared, immutable key term
	omitEmpty bool
	inline    bool // untagged embedded struct: its fields are promoted
}

// fieldCache memoises the fields of each struct type, as encoding/json does;
// it holds only facts derived from Go types.
var fieldCache sync.Map // reflect.Type -> []field

func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			fields = append(fields, field{index: i, inline: true})
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, field{index: i, key: ast.StringTerm(name), omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	fieldCache.Store(t, fields)
	return fields
}

// structFields appends the JSON fields of struct v to pairs, inlining
// untagged embedded structs as encoding/json does.
func (c *converter) structFields(v reflect.Value, pairs *[][2]*ast.Term, depth int) error {
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		if f.inline {
			if err := c.structFields(fv, pairs, depth); err != nil {
				return err
			}
			continue
		}
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		term, err := c.value(fv, depth+1)
		if err != nil {
			return fmt.Errorf("%s: %w", f.key.Value.(ast.String), err)
		}
		*pairs = append(*pairs, [2]*ast.Term{f.key, term})
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
