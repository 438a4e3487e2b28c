package gate

import (
	"bytes"
	"encoding"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/hallmark-dev/hallmark/attest"
)

// The verified cache keeps most results encoded, as one byte slice each
// (CBOR), not as the tree of Go values an evaluation reads: every
// collection marks each live object and scans each pointer, and a full
// cache of 100,000 small scans as Go values took 290 ms of collector CPU
// per cycle on 2 cores, which a server under load felt as a stall of its
// admission reviews. A byte slice holds no pointer, so the collector does
// not look inside it. An evaluation decodes the entries it reads, a few
// microseconds each, into values of its own.
//
// A result is kept encoded only when decoding gives back the same value
// (sameData): its predicate's Go type is plain data (plainData), and the
// round trip is checked once, when the entry is added. Other results stay
// Go values in the cache.

// form is what a cache entry keeps of a checked besides its predicate and
// its ID (the entry's key).
type form struct {
	PredicateType string              `cbor:"1,keyasint"`
	SignerIDs     []string            `cbor:"2,keyasint,omitempty"`
	Certificate   *attest.Certificate `cbor:"3,keyasint,omitempty"`
	Subjects      [][2]string         `cbor:"4,keyasint,omitempty"` // algorithm, hex
	Time          time.Time           `cbor:"5,keyasint"`
	Timestamped   bool                `cbor:"6,keyasint,omitempty"`
	Logged        bool                `cbor:"7,keyasint,omitempty"`
	PAE           []byte              `cbor:"8,keyasint,omitempty"`
	HasPred       bool                `cbor:"9,keyasint,omitempty"`
}

// codec encodes and decodes cache entries. It remembers which predicate
// Go types are plain data and numbers them, so an entry records its
// predicate's type in a byte.
type codec struct {
	enc cbor.EncMode
	dec cbor.DecMode

	mu    sync.Mutex
	plain map[reflect.Type]bool
	types []reflect.Type // by number
	num   map[reflect.Type]uint8
}

func newCodec() (*codec, error) {
	// Times keep their offset (policy input writes times as they are);
	// the decoder reads only what encode wrote, so the default bounds on
	// arrays and maps (sized for untrusted input) would only refuse large
	// SBOMs.
	enc, err := cbor.EncOptions{Time: cbor.TimeRFC3339Nano, TextMarshaler: cbor.TextMarshalerTextString}.EncMode()
	if err != nil {
		return nil, fmt.Errorf("verified cache encoding: %w", err)
	}
	dec, err := cbor.DecOptions{
		MaxArrayElements: 2147483647, MaxMapPairs: 2147483647, MaxNestedLevels: 256,
		UTF8: cbor.UTF8DecodeInvalid, TextUnmarshaler: cbor.TextUnmarshalerTextString,
	}.DecMode()
	if err != nil {
		return nil, fmt.Errorf("verified cache decoding: %w", err)
	}
	return &codec{enc: enc, dec: dec, plain: map[reflect.Type]bool{}, num: map[reflect.Type]uint8{}}, nil
}

// encoded is a result in the form the cache keeps: the encoded form and,
// after it, the encoded predicate, of Go type number predType.
type encoded struct {
	data     []byte
	split    int32
	predType uint8
}

// encode returns c encoded, or false when c must be kept as Go values: a
// predicate that is not plain data or does not survive the round trip, a
// read error, more than 255 predicate types.
func (k *codec) encode(c *checked) (encoded, bool) {
	if c.err != nil {
		return encoded{}, false
	}
	f := form{
		PredicateType: c.predicateType, SignerIDs: c.signerIDs, Certificate: c.certificate,
		Time: c.time, Timestamped: c.timestamped, Logged: c.logged, PAE: c.pae, HasPred: c.pred != nil,
	}
	for _, s := range c.subjects {
		f.Subjects = append(f.Subjects, [2]string{s.alg, s.hex})
	}
	head, err := k.enc.Marshal(f)
	if err != nil {
		return encoded{}, false
	}
	e := encoded{data: head, split: int32(len(head))}
	if c.pred != nil {
		t := reflect.TypeOf(c.pred)
		n, ok := k.number(t)
		if !ok {
			return encoded{}, false
		}
		pred, err := k.enc.Marshal(c.pred)
		if err != nil {
			return encoded{}, false
		}
		e.data, e.predType = append(head, pred...), n
	}
	back, err := k.decode(c.id, e)
	if err != nil || !sameChecked(c, back) {
		return encoded{}, false
	}
	return e, true
}

// number returns the number of predicate type t, or false when t is not
// plain data or the table is full.
func (k *codec) number(t reflect.Type) (uint8, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n, ok := k.num[t]; ok {
		return n, true
	}
	if !plainData(t, k.plain) || len(k.types) > 255 {
		return 0, false
	}
	n := uint8(len(k.types))
	k.types = append(k.types, t)
	k.num[t] = n
	return n, true
}

func (k *codec) typeOf(n uint8) reflect.Type {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.types[n]
}

// decode returns the checked e encodes, whose bundle ID is id.
func (k *codec) decode(id string, e encoded) (*checked, error) {
	var f form
	if err := k.dec.Unmarshal(e.data[:e.split], &f); err != nil {
		return nil, fmt.Errorf("verified cache entry %s: %w", id, err)
	}
	c := &checked{
		id: id, predicateType: f.PredicateType, signerIDs: f.SignerIDs, certificate: f.Certificate,
		time: f.Time, timestamped: f.Timestamped, logged: f.Logged, pae: f.PAE,
	}
	if len(f.Subjects) > 0 {
		c.subjects = make([]subjectDigest, len(f.Subjects))
		for i, s := range f.Subjects {
			c.subjects[i] = subjectDigest{alg: s[0], hex: s[1]}
		}
	}
	if f.HasPred {
		p := reflect.New(k.typeOf(e.predType))
		if err := k.dec.Unmarshal(e.data[e.split:], p.Interface()); err != nil {
			return nil, fmt.Errorf("verified cache entry %s: predicate: %w", id, err)
		}
		c.pred = p.Elem().Interface()
	}
	return c, nil
}

// idOf is the bundle ID of key k.
func idOf(k bundleKey) string { return "sha256:" + hex.EncodeToString(k[:]) }

var (
	timeOf          = reflect.TypeFor[time.Time]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// isText reports whether t is written as text (digest.Digest, say): its
// MarshalText is its data.
func isText(t reflect.Type) bool {
	return t.Implements(textMarshaler) && reflect.PointerTo(t).Implements(textUnmarshaler)
}

// plainData reports whether values of type t survive the cache's encoding
// whole: booleans, numbers, strings, times, types written as text, and
// pointers, slices, arrays,
// string-keyed maps and structs of them, every struct field exported and
// encoded. Interfaces, channels and functions are not plain data, nor are
// unexported fields, which the encoding would drop. seen memoizes, and
// assumes a recursive type plain while it is being checked.
func plainData(t reflect.Type, seen map[reflect.Type]bool) bool {
	if ok, done := seen[t]; done {
		return ok
	}
	if t == timeOf || isText(t) {
		return true
	}
	seen[t] = true
	ok := true
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
	case reflect.Pointer, reflect.Slice, reflect.Array:
		ok = plainData(t.Elem(), seen)
	case reflect.Map:
		ok = t.Key().Kind() == reflect.String && plainData(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("cbor") == "-" || (f.Tag.Get("cbor") == "" && f.Tag.Get("json") == "-") || !plainData(f.Type, seen) {
				ok = false
				break
			}
		}
	default:
		ok = false
	}
	seen[t] = ok
	return ok
}

// sameChecked reports whether b holds what a does, as evaluations read it.
func sameChecked(a, b *checked) bool {
	return a.id == b.id && a.predicateType == b.predicateType && slices.Equal(a.signerIDs, b.signerIDs) &&
		sameData(reflect.ValueOf(a.certificate), reflect.ValueOf(b.certificate)) && slices.Equal(a.subjects, b.subjects) &&
		sameTime(a.time, b.time) && a.timestamped == b.timestamped && a.logged == b.logged &&
		bytes.Equal(a.pae, b.pae) && (a.pae == nil) == (b.pae == nil) &&
		(a.pred == nil) == (b.pred == nil) && (a.pred == nil || sameData(reflect.ValueOf(a.pred), reflect.ValueOf(b.pred)))
}

// sameTime reports whether a and b are the same instant written with the
// same offset, which is all that policy input and JSON show of a time.
func sameTime(a, b time.Time) bool { return a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano) }

// sameData is reflect.DeepEqual over plain data, except that times are
// compared with sameTime and types written as text by their text.
func sameData(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	if a.Type() == timeOf {
		return sameTime(a.Interface().(time.Time), b.Interface().(time.Time))
	}
	if isText(a.Type()) {
		ta, errA := a.Interface().(encoding.TextMarshaler).MarshalText()
		tb, errB := b.Interface().(encoding.TextMarshaler).MarshalText()
		return errA == nil && errB == nil && bytes.Equal(ta, tb)
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameData(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !sameData(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !sameData(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameData(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	}
	return false
}
