package secrets

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
)

// ImageConfigPath is the Location.Path of findings in an image's config;
// Member says where: "Env[2]", "Labels[KEY]", "history[4].created_by".
const ImageConfigPath = "image-config"

// ScanImage scans a container image: every layer (each an archive, so
// findings name the layer as "layer N sha256:DIFFID" and the path inside it
// as the member), and the image config, where leaked keys often sit in
// ENV, labels and the RUN commands recorded in history. The layers are
// copied into a temporary directory, removed before ScanImage returns.
func (s *Scanner) ScanImage(ctx context.Context, img v1.Image) ([]finding.Finding, error) {
	tmp, err := os.MkdirTemp("", "hallmark-secrets-image-")
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	defer os.RemoveAll(tmp)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("secrets: image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("secrets: image layers: %w", err)
	}
	names := map[string]string{} // file name -> location
	for i, l := range layers {
		diff, err := l.DiffID()
		if err != nil {
			return nil, fmt.Errorf("secrets: layer %d: %w", i, err)
		}
		fname := fmt.Sprintf("layer-%03d.tar", i)
		names[fname] = fmt.Sprintf("layer %d %s", i, diff)
		if err := copyLayer(ctx, l, filepath.Join(tmp, fname)); err != nil {
			return nil, fmt.Errorf("secrets: layer %d %s: %w", i, diff, err)
		}
	}
	// The config's fields, one per line, so a finding's line names the entry.
	fields := map[string][]string{}
	var keys []string
	fields["Env"] = cf.Config.Env
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range cf.Config.Labels {
			if !yield(k) {
				return
			}
		}
	}) {
		keys = append(keys, k)
		fields["Labels"] = append(fields["Labels"], k+"="+cf.Config.Labels[k])
	}
	for _, h := range cf.History {
		fields["history"] = append(fields["history"], oneLine(h.CreatedBy))
	}
	for f, lines := range fields {
		if err := os.WriteFile(filepath.Join(tmp, "config-"+f), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
	}
	found, err := s.Scan(ctx, tmp)
	if err != nil {
		return nil, err
	}
	for i := range found {
		loc := &found[i].Location
		if where, ok := names[loc.Path]; ok {
			loc.Path = where
			continue
		}
		if field, ok := strings.CutPrefix(loc.Path, "config-"); ok {
			n := loc.Line - 1
			loc.Path = ImageConfigPath
			switch field {
			case "Env":
				loc.Member = "Env[" + strconv.Itoa(n) + "]"
			case "Labels":
				if n >= 0 && n < len(keys) {
					loc.Member = "Labels[" + keys[n] + "]"
				}
			case "history":
				loc.Member = "history[" + strconv.Itoa(n) + "].created_by"
			}
			loc.Line, loc.Column = 0, 0
		}
	}
	return sortFindings(found), nil
}

func oneLine(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r", " "), "\n", " ") }

func copyLayer(ctx context.Context, l v1.Layer, dst string) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, limits.ContextReader(ctx, rc)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
