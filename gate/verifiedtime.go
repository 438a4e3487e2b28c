package gate

import (
	"errors"
	"reflect"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/policy"
)

// WithVerifyOptions adds options to every verification of evidence, such
// as attest.WithTrustedRoot to require transparency log entries and RFC
// 3161 timestamps that verify offline against a Sigstore trusted root.
// Evidence that fails them is listed as ignored. When evidence carries a
// verified timestamp, its policy input timestamp is that verified time, not
// the time the signer wrote into the predicate, so freshness rules cannot be
// fooled by a backdated or postdated claim.
func WithVerifyOptions(opts ...attest.VerifyOption) Option {
	return func(c *config) error {
		for _, o := range opts {
			if o == nil {
				return errors.New("gate.WithVerifyOptions: nil option")
			}
		}
		c.verifyOpts = append(c.verifyOpts, opts...)
		return nil
	}
}

// useVerifiedTimes sets the timestamp of every evidence item whose bundle
// carries a verified timestamp (times, by evidence ID) to that time. It
// walks every kind of Evidence, so kinds added later are covered too.
func useVerifiedTimes(in *policy.Input, times map[string]time.Time) {
	if len(times) == 0 {
		return
	}
	ev := reflect.ValueOf(&in.Evidence).Elem()
	metaType := reflect.TypeFor[policy.Meta]()
	for i := range ev.NumField() {
		f := ev.Field(i)
		if f.Kind() != reflect.Slice {
			continue
		}
		for j := range f.Len() {
			item := f.Index(j)
			if item.Kind() != reflect.Struct {
				continue
			}
			m := item.FieldByName("Meta")
			if !m.IsValid() || m.Type() != metaType {
				continue
			}
			meta := m.Addr().Interface().(*policy.Meta)
			if t, ok := times[meta.ID]; ok {
				meta.Timestamp = t
			}
		}
	}
}
