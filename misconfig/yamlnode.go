package misconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// maxYAMLDocs bounds the documents read from one YAML stream.
const maxYAMLDocs = 10_000

// decodeYAML reads every document of a YAML stream as nodes.
func decodeYAML(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for i := 0; ; i++ {
		if i >= maxYAMLDocs {
			return docs, fmt.Errorf("%w: more than %d YAML documents", ErrParse, maxYAMLDocs)
		}
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, fmt.Errorf("%w: YAML document %d: %w", ErrParse, i+1, err)
		}
		if len(n.Content) > 0 {
			docs = append(docs, resolve(n.Content[0]))
		}
	}
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode && depth < 100; depth++ {
		n = n.Alias
	}
	return n
}

// get returns the key and value nodes of key in mapping n, or nils.
func get(n *yaml.Node, key string) (k, v *yaml.Node) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if kn := n.Content[i]; kn.Kind == yaml.ScalarNode && kn.Value == key {
			return kn, resolve(n.Content[i+1])
		}
	}
	return nil, nil
}

// val returns the value node at a path of keys, or nil.
func val(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		_, n = get(n, k)
		if n == nil {
			return nil
		}
	}
	return n
}

// str returns the scalar value at a path of keys, or "".
func str(n *yaml.Node, keys ...string) string {
	v := val(n, keys...)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// items returns the elements of a sequence node (nil for anything else).
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, resolve(c))
	}
	return out
}

// pairs returns the key/value pairs of a mapping node.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], resolve(n.Content[i+1])})
	}
	return out
}

// scalars returns the scalar values of a sequence node.
func scalars(n *yaml.Node) []string {
	var out []string
	for _, c := range items(n) {
		if c != nil && c.Kind == yaml.ScalarNode {
			out = append(out, c.Value)
		}
	}
	return out
}

// line returns the node's line, or fallback if n is nil.
func line(n *yaml.Node, fallback int) int {
	if n == nil {
		return fallback
	}
	return n.Line
}
