package tee

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// HexBytes are bytes shown in JSON as lower-case hex, like measurements,
// so report data and nonces read the same way as the values they are
// compared with. Reading also accepts standard base64, the encoding of
// claims written before.
type HexBytes []byte

// MarshalJSON encodes b as a lower-case hex string.
func (b HexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(b)) }

// UnmarshalJSON decodes a hex string, or a standard base64 one.
func (b *HexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	if v, err := hex.DecodeString(s); err == nil {
		*b = v
		return nil
	}
	v, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("tee: %q is neither hex nor base64", s)
	}
	*b = v
	return nil
}
