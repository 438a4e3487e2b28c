// Package strictjson decodes signed and untrusted JSON the way every
// case-sensitive reader (jq, OPA, a person) reads it.
//
// encoding/json matches object keys to struct fields case-insensitively and
// keeps the last of two equal keys; protojson accepts a field's proto name
// ("predicate_type") as well as its JSON name ("predicateType"). A document
// can therefore say one thing to Hallmark and another to every other tool:
// {"environment":"staging","Environment":"prod"} is staging to jq and prod to
// encoding/json. This package refuses such documents: duplicate keys, keys
// that differ only in case (or Unicode folding) from a field, keys unknown to
// a closed schema, proto field names where JSON names are meant, nesting
// deeper than limits.MaxJSONDepth and trailing data.
package strictjson
