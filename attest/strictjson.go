package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// checkStrictJSON rejects what encoding/json and protojson may let through
// but a security verifier must not: duplicate object keys (two parsers could
// disagree on which one wins), nesting deeper than limits.MaxJSONDepth, and
// any data after the single top-level value.
func checkStrictJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walkValue(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
	}
	return nil
}

func walkValue(dec *json.Decoder, depth int) error {
	if depth > limits.MaxJSONDepth {
		return fmt.Errorf("%w: JSON nested deeper than %d", ErrMalformed, limits.MaxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			k, ok := kt.(string)
			if !ok {
				return fmt.Errorf("%w: object key is not a string", ErrMalformed)
			}
			if seen[k] {
				return fmt.Errorf("%w: duplicate JSON key %q", ErrMalformed, k)
			}
			seen[k] = true
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}
