package policy

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

var (
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	timeType          = reflect.TypeFor[time.Time]()
)

// toValue converts a Go value to a Rego value following encoding/json's
// field names and omitempty, except that nil slices and maps become empty
// arrays and objects, so that policies never meet null where a collection
// belongs. It avoids a JSON round trip on the evaluation hot path.
func toValue(v reflect.Value) (*ast.Term, error) {
	if !v.IsValid() {
		return ast.InternedNullTerm, nil
	}
	var c converter
	return encoderOf(v.Type())(&c, v, 0)
}

// converter allocates terms in slabs and reuses one pair buffer per nesting
// depth (ast.NewObject copies the pairs), which removes about a third of
// the allocations of converting a large input.
type converter struct {
	slab []ast.Term
	bufs [][][2]*ast.Term
	text []byte // scratch for formatting times
}

func (c *converter) term(v ast.Value) *ast.Term {
	if len(c.slab) == 0 {
		c.slab = make([]ast.Term, 256)
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

// encoder converts a value of one Go type. Encoders are built once per
// type, so the conversion of each value neither asks reflect which
// interfaces its type implements nor looks up its struct fields. Scalars
// that OPA interns (booleans, small integers, "", empty collections) are
// shared, not allocated.
type encoder func(c *converter, v reflect.Value, depth int) (*ast.Term, error)

// encoders memoises the encoder of each type, as encoding/json does; it
// holds only facts derived from Go types.
var encoders sync.Map // reflect.Type -> encoder

// encoderOf returns t's encoder. A type that contains itself (through a
// pointer, slice or map) gets, while its encoder is being built, one that
// waits for it.
func encoderOf(t reflect.Type) encoder {
	if e, ok := encoders.Load(t); ok {
		return e.(encoder)
	}
	var (
		wg    sync.WaitGroup
		built encoder
	)
	wg.Add(1)
	e, loaded := encoders.LoadOrStore(t, encoder(func(c *converter, v reflect.Value, depth int) (*ast.Term, error) {
		wg.Wait()
		return built(c, v, depth)
	}))
	if loaded {
		return e.(encoder)
	}
	built = newEncoder(t)
	wg.Done()
	encoders.Store(t, built)
	return built
}

func newEncoder(t reflect.Type) encoder {
	if t == timeType {
		return encodeTime
	}
	if t.Implements(textMarshalerType) {
		return encodeText
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(_ *converter, v reflect.Value, _ int) (*ast.Term, error) { return ast.InternedTerm(v.Bool()), nil }
	case reflect.String:
		return func(c *converter, v reflect.Value, _ int) (*ast.Term, error) {
			if v.Len() == 0 {
				return ast.InternedEmptyString, nil
			}
			return c.term(ast.String(v.String())), nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(c *converter, v reflect.Value, _ int) (*ast.Term, error) {
			i := v.Int()
			if ast.HasInternedIntNumberTerm(int(i)) && int64(int(i)) == i {
				return ast.InternedTerm(int(i)), nil
			}
			return c.term(ast.Number(strconv.FormatInt(i, 10))), nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(c *converter, v reflect.Value, _ int) (*ast.Term, error) {
			return c.term(ast.Number(strconv.FormatUint(v.Uint(), 10))), nil
		}
	case reflect.Float32, reflect.Float64:
		return func(_ *converter, v reflect.Value, _ int) (*ast.Term, error) {
			return ast.FloatNumberTerm(v.Float()), nil
		}
	case reflect.Pointer:
		return newPointerEncoder(t)
	case reflect.Interface:
		return encodeInterface
	case reflect.Slice, reflect.Array:
		return newArrayEncoder(t)
	case reflect.Map:
		return newMapEncoder(t)
	case reflect.Struct:
		return newStructEncoder(t)
	default:
		return func(*converter, reflect.Value, int) (*ast.Term, error) {
			return nil, fmt.Errorf("%w: unsupported Go type %s", ErrInput, t)
		}
	}
}

// encodeText converts a TextMarshaler to its text; a nil pointer is null.
func encodeText(c *converter, v reflect.Value, _ int) (*ast.Term, error) {
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return ast.InternedNullTerm, nil
	}
	b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return nil, err
	}
	return c.term(ast.String(b)), nil
}

// encodeTime writes a time as its MarshalText does (RFC 3339 with
// nanoseconds, an error outside years 0-9999), through a reused buffer.
func encodeTime(c *converter, v reflect.Value, _ int) (*ast.Term, error) {
	t, _ := reflect.TypeAssert[time.Time](v)
	b, err := t.AppendText(c.text[:0])
	if err != nil {
		_, err = t.MarshalText() // MarshalText's wording of the same error
		return nil, err
	}
	c.text = b
	return c.term(ast.String(b)), nil
}

func encodeInterface(c *converter, v reflect.Value, depth int) (*ast.Term, error) {
	if v.IsNil() {
		return ast.InternedNullTerm, nil
	}
	e := v.Elem()
	return encoderOf(e.Type())(c, e, depth)
}

func newPointerEncoder(t reflect.Type) encoder {
	elem := encoderOf(t.Elem())
	return func(c *converter, v reflect.Value, depth int) (*ast.Term, error) {
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		return elem(c, v.Elem(), depth)
	}
}

func newArrayEncoder(t reflect.Type) encoder {
	elem := encoderOf(t.Elem())
	return func(c *converter, v reflect.Value, depth int) (*ast.Term, error) {
		n := v.Len()
		if n == 0 {
			return ast.InternedEmptyArray, nil
		}
		terms := make([]*ast.Term, n)
		for i := range n {
			t, err := elem(c, v.Index(i), depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			terms[i] = t
		}
		return c.term(ast.NewArray(terms...)), nil
	}
}

func newMapEncoder(t reflect.Type) encoder {
	if t.Key().Kind() != reflect.String {
		return func(*converter, reflect.Value, int) (*ast.Term, error) {
			return nil, fmt.Errorf("%w: map key type %s", ErrInput, t.Key())
		}
	}
	elem := encoderOf(t.Elem())
	return func(c *converter, v reflect.Value, depth int) (*ast.Term, error) {
		if v.Len() == 0 {
			return ast.InternedEmptyObject, nil
		}
		pairs := c.pairs(depth)
		iter := v.MapRange()
		for iter.Next() {
			t, err := elem(c, iter.Value(), depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%q]: %w", iter.Key().String(), err)
			}
			pairs = append(pairs, [2]*ast.Term{c.term(ast.String(iter.Key().String())), t})
		}
		c.bufs[depth] = pairs
		return c.term(ast.NewObject(pairs...)), nil
	}
}

// field is one JSON field of a struct type, or an untagged embedded
// struct whose fields are promoted.
type field struct {
	index     int
	key       *ast.Term // shared, immutable key term
	omitEmpty bool
	enc       encoder
	embedded  bool    // an untagged embedded struct, whose fields are
	inline    []field // promoted
}

func newStructEncoder(t reflect.Type) encoder {
	fields := structFields(t)
	return func(c *converter, v reflect.Value, depth int) (*ast.Term, error) {
		pairs := c.pairs(depth)
		if err := c.structFields(fields, v, &pairs, depth); err != nil {
			return nil, err
		}
		c.bufs[depth] = pairs
		return c.term(ast.NewObject(pairs...)), nil
	}
}

func structFields(t reflect.Type) []field {
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			fields = append(fields, field{index: i, embedded: true, inline: structFields(f.Type)})
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, field{
			index: i, key: ast.StringTerm(name), enc: encoderOf(f.Type),
			omitEmpty: strings.Contains(","+opts+",", ",omitempty,"),
		})
	}
	return fields
}

// structFields appends the JSON fields of struct v to pairs, inlining
// untagged embedded structs as encoding/json does.
func (c *converter) structFields(fields []field, v reflect.Value, pairs *[][2]*ast.Term, depth int) error {
	for _, f := range fields {
		fv := v.Field(f.index)
		if f.embedded {
			if err := c.structFields(f.inline, fv, pairs, depth); err != nil {
				return err
			}
			continue
		}
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		term, err := f.enc(c, fv, depth+1)
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
