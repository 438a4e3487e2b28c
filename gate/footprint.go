package gate

import (
	"math/bits"
	"reflect"
	"time"
)

// footprint estimates the heap a cached verification result holds: the
// checked value itself and everything it reaches, strings, slices, maps
// and the predicate read into policy input, each allocation rounded up as
// the Go allocator rounds it, plus the cache's own bookkeeping for the
// entry. TestVerifiedCacheEntryHeap compares it with the heap the runtime
// reports for thousands of entries.
func footprint(c *checked) int64 {
	return lruEntryBytes() + allocSize(int64(reflect.TypeFor[checked]().Size())) + reached(reflect.ValueOf(c).Elem(), map[uintptr]bool{})
}

// footprint is the heap e holds in the cache: its encoded bytes, or the
// Go values of a result kept as they are (footprint of a checked).
func (e cacheEntry) footprint() int64 {
	if e.value != nil {
		return footprint(e.value)
	}
	return lruEntryBytes() + allocSize(int64(len(e.form.data)))
}

// lruEntryBytes is what the LRU spends per entry besides the value: its
// slot (with its 32-byte key inline) and its index entry, at the usual
// load of the slot slice (grown by doubling) and of the index's table.
func lruEntryBytes() int64 {
	return int64(reflect.TypeFor[slot]().Size())*3/2 + int64(reflect.TypeFor[bundleKey]().Size()+4+1)*8/7
}

var timeType = reflect.TypeFor[time.Time]()

// reached is the heap v references beyond its own inline bytes, counting
// what a pointer in seen points to once. Strings and slices sharing a
// backing array are counted twice, and interned strings (one copy for the
// whole cache) once per entry, which overestimates; a time.Time's
// *Location, shared by all times, is not counted.
func reached(v reflect.Value, seen map[uintptr]bool) int64 {
	switch v.Kind() {
	case reflect.String:
		return allocSize(int64(v.Len()))
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return 0
		}
		seen[v.Pointer()] = true
		return allocSize(int64(v.Type().Elem().Size())) + reached(v.Elem(), seen)
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		n := reached(e, seen)
		if e.Kind() != reflect.Pointer {
			n += allocSize(int64(e.Type().Size())) // a non-pointer value is boxed
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		n := allocSize(int64(v.Cap()) * int64(v.Type().Elem().Size()))
		for i := range v.Len() {
			n += reached(v.Index(i), seen)
		}
		return n
	case reflect.Array:
		var n int64
		for i := range v.Len() {
			n += reached(v.Index(i), seen)
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return 0
		}
		// Swiss tables: groups of 8 slots of key, value and a control
		// byte each, at most 7/8 full.
		slot := int64(v.Type().Key().Size() + v.Type().Elem().Size() + 1)
		n := allocSize(48 + slot*8*int64((v.Len()*8/7+8)/8))
		for it := v.MapRange(); it.Next(); {
			n += reached(it.Key(), seen) + reached(it.Value(), seen)
		}
		return n
	case reflect.Struct:
		if v.Type() == timeType {
			return 0
		}
		var n int64
		for i := range v.NumField() {
			n += reached(v.Field(i), seen)
		}
		return n
	}
	return 0
}

// allocSize is n rounded up to a size class of the Go allocator, roughly:
// 8 bytes below 32, 16 below 256, an eighth of the size above.
func allocSize(n int64) int64 {
	switch {
	case n <= 0:
		return 0
	case n <= 32:
		return (n + 7) &^ 7
	case n <= 256:
		return (n + 15) &^ 15
	}
	step := int64(1) << (63 - bits.LeadingZeros64(uint64(n)) - 3)
	return (n + step - 1) / step * step
}
