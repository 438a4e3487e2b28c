package provenance

import (
	"fmt"
	"strconv"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// Internal is buildDefinition.internalParameters as a Hallmark build
// records it (see [Predicate]): what a rebuild needs to run the build again.
type Internal struct {
	Sandbox *Sandbox `json:"sandbox"`
	// SourceDateEpoch is the SOURCE_DATE_EPOCH given to the build, decimal
	// Unix seconds; see [Internal.SourceDate].
	SourceDateEpoch string            `json:"sourceDateEpoch"`
	EnvAllowlist    []string          `json:"envAllowlist"`
	Env             map[string]string `json:"env"`
	RedactedEnv     []string          `json:"redactedEnv"`
	Prepare         []Step            `json:"prepare"`
	OutputFixes     []string          `json:"outputFixes"`
	OutputDirs      []string          `json:"outputDirs"`
}

// ReadInternal reads the internalParameters of a Hallmark build's
// provenance. Keys are matched with exact case and must have the types
// Hallmark writes; keys it does not know are left alone (internalParameters
// is the builder's own to extend).
func ReadInternal(p *slsa.Provenance) (*Internal, error) {
	ip := p.GetBuildDefinition().GetInternalParameters()
	if ip == nil {
		return &Internal{}, nil
	}
	raw, err := protojson.Marshal(ip)
	if err != nil {
		return nil, fmt.Errorf("%w: internalParameters: %w", ErrInvalidFacts, err)
	}
	var in Internal
	if err := strictjson.Decode(raw, &in, strictjson.AllowUnknownKeys()); err != nil {
		return nil, fmt.Errorf("%w: internalParameters: %w", ErrInvalidFacts, err)
	}
	for i, st := range in.Prepare {
		if len(st.Command) == 0 {
			return nil, fmt.Errorf("%w: internalParameters.prepare[%d] has no command", ErrInvalidFacts, i)
		}
	}
	return &in, nil
}

// SourceDate is SourceDateEpoch as a time; nil when none was recorded.
func (in *Internal) SourceDate() (*time.Time, error) {
	if in.SourceDateEpoch == "" {
		return nil, nil
	}
	secs, err := strconv.ParseInt(in.SourceDateEpoch, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: internalParameters.sourceDateEpoch %q: %w", ErrInvalidFacts, in.SourceDateEpoch, err)
	}
	t := time.Unix(secs, 0).UTC()
	return &t, nil
}
