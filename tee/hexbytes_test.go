package tee_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/tee"
)

// Report data and nonces are hex in JSON, as measurements are (issue
// 16.11: they were base64); claims written before, in base64, still read.
func TestClaimsHexBytes(t *testing.T) {
	c := tee.Claims{Platform: tee.TDX, Measurements: map[string]string{"mr_td": "ab01"}, ReportData: []byte{0xab, 0x01}, Nonce: []byte{0xff}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reportData":"ab01"`) || !strings.Contains(string(b), `"nonce":"ff"`) {
		t.Errorf("claims JSON: %s", b)
	}
	var back tee.Claims
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var old tee.Claims
	if err := json.Unmarshal([]byte(`{"platform":"tdx","measurements":{},"debug":false,"reportData":"qwE=","nonce":"/w=="}`), &old); err != nil {
		t.Fatal(err)
	}
	if string(old.ReportData) != "\xab\x01" || string(old.Nonce) != "\xff" {
		t.Errorf("base64 claims read as %x, %x", old.ReportData, old.Nonce)
	}
	if err := json.Unmarshal([]byte(`{"reportData":"not hex!"}`), &old); err == nil {
		t.Error("neither hex nor base64 was accepted")
	}
}
