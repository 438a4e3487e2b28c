package attest

import (
	"encoding/base64"
	"errors"
	"strconv"
	"unicode/utf8"
)

// errInvalidUTF8 is what appendProtoJSONString returns for a string that
// protojson refuses to encode.
var errInvalidUTF8 = errors.New("invalid UTF-8 in string")

// appendDSSEBundle appends the Sigstore bundle v0.3 JSON of one DSSE
// envelope with one signature, whose verification material is the public
// key hint: the bytes protojson.Marshal writes for that bundle (the one
// sigstore-go's sign.Bundle builds for a key without a log or timestamp
// authority), without the random space protojson may put after a comma.
// It skips building the protobuf message and walking it by reflection,
// which cost as much as half of signing a small record. Like protojson it
// leaves out empty fields and refuses strings that are not UTF-8.
func appendDSSEBundle(dst []byte, hint, payloadType string, payload, sig []byte) ([]byte, error) {
	var err error
	dst = append(dst, `{"mediaType":"`+BundleMediaType+`","verificationMaterial":{"publicKey":{`...)
	if hint != "" {
		dst = append(dst, `"hint":`...)
		if dst, err = appendProtoJSONString(dst, hint); err != nil {
			return nil, err
		}
	}
	dst = append(dst, `}},"dsseEnvelope":{`...)
	sep := ""
	if len(payload) > 0 {
		dst = append(dst, `"payload":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, payload)
		dst = append(dst, '"')
		sep = ","
	}
	if payloadType != "" {
		dst = append(dst, sep+`"payloadType":`...)
		if dst, err = appendProtoJSONString(dst, payloadType); err != nil {
			return nil, err
		}
		sep = ","
	}
	dst = append(dst, sep+`"signatures":[{`...)
	if len(sig) > 0 {
		dst = append(dst, `"sig":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, sig)
		dst = append(dst, '"')
	}
	dst = append(dst, "}]}}"...)
	return dst, nil
}

// appendProtoJSONString appends s as a JSON string escaped as protojson
// escapes it: only '"', '\\' and control characters, the common ones by
// their short escapes; '<', '>', '&' and U+2028/U+2029 stay as they are,
// unlike in encoding/json.
func appendProtoJSONString(dst []byte, s string) ([]byte, error) {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, errInvalidUTF8
			}
			dst = append(dst, s[i:i+n]...)
			i += n
			continue
		}
		i++
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= ' ':
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, `\b`...)
		case c == '\f':
			dst = append(dst, `\f`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, `\u00`...)
			if c < 0x10 {
				dst = append(dst, '0')
			}
			dst = strconv.AppendUint(dst, uint64(c), 16)
		}
	}
	return append(dst, '"'), nil
}
