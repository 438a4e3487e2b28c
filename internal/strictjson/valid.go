package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// checkValid is Check for input json.Valid accepted: one pass over the
// bytes that tracks nesting and each object's keys, without the token
// and interface allocations of json.Decoder (a tenth of a cold admission
// miss's CPU was Check's token walk; docs/server.md). Syntax is not
// judged again here: the walk relies on b being well formed.
func checkValid(b []byte) error {
	w := validWalker{b: b}
	return w.value(0)
}

type validWalker struct {
	b []byte
	i int
}

func (w *validWalker) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value walks the value at w.i, depth levels below the top.
func (w *validWalker) value(depth int) error {
	if depth > limits.MaxJSONDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrSyntax, limits.MaxJSONDepth)
	}
	w.space()
	switch w.b[w.i] {
	case '{':
		w.i++
		var keys objectKeys
		for {
			w.space()
			switch w.b[w.i] {
			case '}':
				w.i++
				return nil
			case ',':
				w.i++
				w.space()
			}
			k, err := keyOf(w.str())
			if err != nil {
				return err
			}
			if !keys.add(k) {
				return fmt.Errorf("%w: %q", ErrDuplicateKey, k)
			}
			w.space()
			w.i++ // ':'
			if err := w.value(depth + 1); err != nil {
				return err
			}
		}
	case '[':
		w.i++
		for {
			w.space()
			switch w.b[w.i] {
			case ']':
				w.i++
				return nil
			case ',':
				w.i++
			}
			if err := w.value(depth + 1); err != nil {
				return err
			}
		}
	case '"':
		w.str()
	default: // a number, true, false or null
		for w.i < len(w.b) {
			switch w.b[w.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return nil
			}
			w.i++
		}
	}
	return nil
}

// str returns the string at w.i with its quotes, and moves past it.
func (w *validWalker) str() []byte {
	start := w.i
	for j := w.i + 1; ; j++ {
		switch w.b[j] {
		case '\\':
			j++ // the escaped byte; \uXXXX's digits need no care
		case '"':
			w.i = j + 1
			return w.b[start:w.i]
		}
	}
}

// keyOf returns a quoted key as json.Decoder does: unescaped, with
// invalid UTF-8 replaced, so that "a" and "\u0061" are the same key.
func keyOf(quoted []byte) (string, error) {
	plain := bytes.IndexByte(quoted, '\\') < 0
	for _, c := range quoted {
		if c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var k string
	if err := json.Unmarshal(quoted, &k); err != nil {
		return "", fmt.Errorf("%w: object key: %v", ErrSyntax, err)
	}
	return k, nil
}

// objectKeys is the set of one object's keys: a slice while small, a map
// once an object has many.
type objectKeys struct {
	few  []string
	many map[string]struct{}
}

const fewKeys = 16

// add adds k and reports whether it was new.
func (o *objectKeys) add(k string) bool {
	if o.many != nil {
		if _, dup := o.many[k]; dup {
			return false
		}
		o.many[k] = struct{}{}
		return true
	}
	for _, have := range o.few {
		if have == k {
			return false
		}
	}
	if len(o.few) < fewKeys {
		o.few = append(o.few, k)
		return true
	}
	o.many = make(map[string]struct{}, 2*fewKeys)
	for _, have := range o.few {
		o.many[have] = struct{}{}
	}
	o.many[k] = struct{}{}
	o.few = nil
	return true
}
