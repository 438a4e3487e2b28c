package gate

// verifiedLRU holds the verified cache's entries in least-recently-used order.
// The entries sit in one slice, linked by index, and the index maps a key
// to its slot: a map whose keys and values hold no pointer, which the
// collector does not scan, where a list of one heap object per entry
// (golang-lru's) had it visit 100,000 more objects for a full cache. Not
// safe for concurrent use: the verifier locks around it.
type verifiedLRU struct {
	index      map[bundleKey]int32
	slots      []slot
	free       []int32 // slots of removed entries, reused first
	head, tail int32   // most and least recently used; none when empty
}

// none is the index of no slot.
const none = -1

type slot struct {
	key        bundleKey
	prev, next int32 // towards head, towards tail
	entry      cacheEntry
}

// cacheEntry is one cached result: encoded (cacheform.go), or, when its
// predicate cannot be encoded, the Go value itself.
type cacheEntry struct {
	form  encoded
	value *checked // nil for an encoded result
	size  int64    // the bytes the cache's bound counts for it
}

func newVerifiedLRU() *verifiedLRU {
	return &verifiedLRU{index: map[bundleKey]int32{}, head: none, tail: none}
}

func (l *verifiedLRU) len() int { return len(l.index) }

// get returns the entry of k and makes it the most recently used.
func (l *verifiedLRU) get(k bundleKey) (cacheEntry, bool) {
	i, ok := l.index[k]
	if !ok {
		return cacheEntry{}, false
	}
	l.unlink(i)
	l.pushFront(i)
	return l.slots[i].entry, true
}

func (l *verifiedLRU) contains(k bundleKey) bool {
	_, ok := l.index[k]
	return ok
}

// add inserts e under k, which must not be in l, as the most recently used.
func (l *verifiedLRU) add(k bundleKey, e cacheEntry) {
	var i int32
	if n := len(l.free); n > 0 {
		i, l.free = l.free[n-1], l.free[:n-1]
	} else {
		i = int32(len(l.slots))
		l.slots = append(l.slots, slot{})
	}
	l.slots[i] = slot{key: k, entry: e}
	l.index[k] = i
	l.pushFront(i)
}

// removeOldest removes the least recently used entry and returns it.
func (l *verifiedLRU) removeOldest() (cacheEntry, bool) {
	i := l.tail
	if i == none {
		return cacheEntry{}, false
	}
	l.unlink(i)
	s := l.slots[i]
	delete(l.index, s.key)
	l.slots[i] = slot{} // drop the entry's bytes
	l.free = append(l.free, i)
	return s.entry, true
}

func (l *verifiedLRU) unlink(i int32) {
	s := &l.slots[i]
	if s.prev != none {
		l.slots[s.prev].next = s.next
	} else {
		l.head = s.next
	}
	if s.next != none {
		l.slots[s.next].prev = s.prev
	} else {
		l.tail = s.prev
	}
}

func (l *verifiedLRU) pushFront(i int32) {
	s := &l.slots[i]
	s.prev, s.next = none, l.head
	if l.head != none {
		l.slots[l.head].prev = i
	}
	l.head = i
	if l.tail == none {
		l.tail = i
	}
}
