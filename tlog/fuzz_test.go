package tlog_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/tlog"
)

// FuzzParseRoot: any input is rejected with an error or parsed, never a
// panic; a root ParseRoot accepts names a base URL for every log.
func FuzzParseRoot(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"baseUrl":"","hashAlgorithm":"SHA2_256","publicKey":{"rawBytes":"AA==","keyDetails":"PKIX_ED25519","validFor":{"start":"2026-01-01T00:00:00Z"}},"logId":{"keyId":"AA=="}}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tr, err := tlog.ParseRoot(raw)
		if err != nil {
			return
		}
		for id, l := range tr.RekorLogs() {
			if l.BaseURL == "" {
				t.Fatalf("log %s accepted without a base URL", id)
			}
		}
	})
}
