package gate

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/hallmark-dev/hallmark/attest"
)

// The verified cache keeps most results encoded, as one byte slice each
// (a header written by hand, then the predicate in CBOR), not as the tree of Go values an evaluation reads: every
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

// The header of an entry, what it keeps of a checked besides the
// predicate and the ID (the entry's key), is written by hand (appendHeader,
// header.read): it is read on every lookup, and a reflective decoder spent
// as long on these few fields as on the predicate.
const (
	flagTimestamped = 1 << iota
	flagLogged
	flagPred
	flagCertificate
	flagTime
	flagPAE
)

func (k *codec) appendHeader(b []byte, c *checked) ([]byte, error) {
	var flags byte
	for _, f := range []struct {
		on   bool
		flag byte
	}{{c.timestamped, flagTimestamped}, {c.logged, flagLogged}, {c.pred != nil, flagPred}, {c.certificate != nil, flagCertificate}, {!c.time.IsZero(), flagTime}, {c.pae != nil, flagPAE}} {
		if f.on {
			flags |= f.flag
		}
	}
	b = append(b, flags)
	b = appendString(b, c.predicateType)
	b = binary.AppendUvarint(b, uint64(len(c.signerIDs)))
	for _, id := range c.signerIDs {
		b = appendString(b, id)
	}
	b = binary.AppendUvarint(b, uint64(len(c.subjects)))
	for _, d := range c.subjects {
		b = appendString(appendString(b, d.alg), d.hex)
	}
	if flags&flagTime != 0 {
		_, offset := c.time.Zone()
		b = binary.AppendVarint(b, c.time.Unix())
		b = binary.AppendUvarint(b, uint64(c.time.Nanosecond()))
		b = binary.AppendVarint(b, int64(offset))
	}
	if flags&flagPAE != 0 {
		b = appendString(b, string(c.pae))
	}
	if flags&flagCertificate != 0 {
		cert, err := k.enc.Marshal(c.certificate)
		if err != nil {
			return nil, err
		}
		b = appendString(b, string(cert))
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// header reads what appendHeader wrote; its first error sticks.
type header struct {
	b   []byte
	err error
}

func (h *header) uvarint() uint64 { return readNumber(h, binary.Uvarint) }

func (h *header) varint() int64 { return readNumber(h, binary.Varint) }

// readNumber reads one number of h with read (binary.Uvarint, Varint).
func readNumber[T uint64 | int64](h *header, read func([]byte) (T, int)) T {
	v, n := read(h.b)
	if n <= 0 {
		h.fail()
		return 0
	}
	h.b = h.b[n:]
	return v
}

func (h *header) bytes() []byte {
	n := h.uvarint()
	if n > uint64(len(h.b)) {
		h.fail()
		return nil
	}
	v := h.b[:n:n]
	h.b = h.b[n:]
	return v
}

func (h *header) string() string { return string(h.bytes()) }

// count reads a length, bounded by the bytes left (each item takes one).
func (h *header) count() int {
	n := h.uvarint()
	if n > uint64(len(h.b)) {
		h.fail()
		return 0
	}
	return int(n)
}

func (h *header) fail() {
	if h.err == nil {
		h.err = errors.New("truncated header")
	}
	h.b = nil
}

// read fills c from the header and returns its flags.
func (h *header) read(k *codec, c *checked) (byte, error) {
	if len(h.b) == 0 {
		return 0, errors.New("empty header")
	}
	flags := h.b[0]
	h.b = h.b[1:]
	c.predicateType = h.string()
	if n := h.count(); n > 0 {
		c.signerIDs = make([]string, n)
		for i := range c.signerIDs {
			c.signerIDs[i] = h.string()
		}
	}
	if n := h.count(); n > 0 {
		c.subjects = make([]subjectDigest, n)
		for i := range c.subjects {
			c.subjects[i] = subjectDigest{alg: h.string(), hex: h.string()}
		}
	}
	if flags&flagTime != 0 {
		sec, nsec, offset := h.varint(), h.uvarint(), h.varint()
		c.time = time.Unix(sec, int64(nsec)).UTC()
		if offset != 0 {
			c.time = c.time.In(time.FixedZone("", int(offset)))
		}
	}
	if flags&flagPAE != 0 {
		c.pae = slices.Clone(h.bytes())
	}
	if flags&flagCertificate != 0 {
		c.certificate = new(attest.Certificate)
		if err := k.dec.Unmarshal(h.bytes(), c.certificate); err != nil && h.err == nil {
			return 0, err
		}
	}
	c.timestamped, c.logged = flags&flagTimestamped != 0, flags&flagLogged != 0
	if h.err == nil && len(h.b) != 0 {
		h.err = errors.New("trailing bytes in header")
	}
	return flags, h.err
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
	// the decoder reads only what encode wrote, so field names match
	// exactly, and the default bounds on arrays and maps (sized for
	// untrusted input) would only refuse large SBOMs.
	enc, err := cbor.EncOptions{Time: cbor.TimeRFC3339Nano, TextMarshaler: cbor.TextMarshalerTextString}.EncMode()
	if err != nil {
		return nil, fmt.Errorf("verified cache encoding: %w", err)
	}
	dec, err := cbor.DecOptions{
		MaxArrayElements: 2147483647, MaxMapPairs: 2147483647, MaxNestedLevels: 256,
		UTF8: cbor.UTF8DecodeInvalid, TextUnmarshaler: cbor.TextUnmarshalerTextString,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
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
	head, err := k.appendHeader(nil, c)
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
	c := &checked{id: id}
	h := header{b: e.data[:e.split]}
	flags, err := h.read(k, c)
	if err != nil {
		return nil, fmt.Errorf("verified cache entry %s: %w", id, err)
	}
	if flags&flagPred != 0 {
		p := reflect.New(k.typeOf(e.predType))
		if err := k.dec.Unmarshal(e.data[e.split:], p.Interface()); err != nil {
			return nil, fmt.Errorf("verified cache entry %s: predicate: %w", id, err)
		}
		c.pred = p.Elem().Interface()
	}
	return c, nil
}

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
