package assemble

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// ErrSpec is a specification that cannot make an image: a file that is
// not a regular file, a destination that is not an absolute clean path,
// two files at one destination, a malformed environment entry.
var ErrSpec = errors.New("bad image specification")

// MaxLayerBytes bounds the total size of the files of one assembled
// layer: the layer is built in memory.
const MaxLayerBytes = 1 << 30

// CreatedBy is the history entry's created_by of the assembled layer.
const CreatedBy = "hallmark image"

// File is one file to put into the image.
type File struct {
	// Src is the file on disk. Only its content and whether it is
	// executable count; its name, owner and times do not.
	Src string
	// Dst is the absolute path in the image, for example "/app".
	Dst string
}

// Spec is everything that decides the assembled image besides the base.
type Spec struct {
	// Files go into one new layer. Their order does not matter.
	Files []File
	// Entrypoint, when set, replaces the base's entrypoint and clears its
	// command (a base's command is meant for the base's entrypoint).
	Entrypoint []string
	// Cmd, when set, replaces the command.
	Cmd []string
	// Env entries are KEY=VALUE; a key the base sets is replaced.
	Env []string
	// Labels are added to the base's, replacing equal keys.
	Labels map[string]string
	// WorkDir, when set, replaces the working directory.
	WorkDir string
	// Platform, when set, is recorded as the config's os, architecture
	// and variant. An empty base has linux/amd64 unless it is set.
	Platform *v1.Platform
	// Epoch is the source date epoch: every time in the layer and the
	// config. The zero Time means the Unix epoch.
	Epoch time.Time
}

// Scratch is the empty base image: an OCI manifest with no layers.
func Scratch() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// Image assembles the image of s on base. The result is lazy only in
// hashing: the layer has been read into memory (bounded by
// MaxLayerBytes in total).
func Image(base v1.Image, s Spec) (v1.Image, error) {
	if base == nil {
		base = Scratch()
	}
	epoch := s.Epoch
	if epoch.IsZero() {
		epoch = time.Unix(0, 0)
	}
	epoch = epoch.UTC().Truncate(time.Second)
	mt, err := base.MediaType()
	if err != nil {
		return nil, fmt.Errorf("assemble: base media type: %w", err)
	}
	layerType := types.OCILayer
	if mt == types.DockerManifestSchema2 {
		layerType = types.DockerLayer
	}
	img := base
	if len(s.Files) > 0 {
		tarBytes, err := layerTar(s.Files, epoch)
		if err != nil {
			return nil, err
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(tarBytes)), nil
		}, tarball.WithMediaType(layerType))
		if err != nil {
			return nil, fmt.Errorf("assemble: layer: %w", err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     layer,
			MediaType: layerType,
			History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: CreatedBy},
		})
		if err != nil {
			return nil, fmt.Errorf("assemble: append layer: %w", err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assemble: base config: %w", err)
	}
	cf = cf.DeepCopy()
	if err := configure(cf, s); err != nil {
		return nil, err
	}
	cf.Created = v1.Time{Time: epoch}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("assemble: config: %w", err)
	}
	return img, nil
}

func configure(cf *v1.ConfigFile, s Spec) error {
	if s.Platform != nil {
		cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = s.Platform.OS, s.Platform.Architecture, s.Platform.Variant, s.Platform.OSVersion
	}
	if cf.OS == "" {
		cf.OS = "linux"
	}
	if cf.Architecture == "" {
		cf.Architecture = "amd64"
	}
	c := &cf.Config
	if s.Entrypoint != nil {
		c.Entrypoint = slices.Clone(s.Entrypoint)
		c.Cmd = nil
	}
	if s.Cmd != nil {
		c.Cmd = slices.Clone(s.Cmd)
	}
	if s.WorkDir != "" {
		c.WorkingDir = s.WorkDir
	}
	for _, kv := range s.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("%w: environment entry %q is not KEY=VALUE", ErrSpec, kv)
		}
		c.Env = slices.DeleteFunc(c.Env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		c.Env = append(c.Env, kv)
	}
	if len(s.Labels) > 0 && c.Labels == nil {
		c.Labels = map[string]string{}
	}
	for k, v := range s.Labels {
		c.Labels[k] = v
	}
	return nil
}

// entry is one tar entry of the layer.
type entry struct {
	name string // relative to /, no leading slash
	dir  bool
	src  string
	exec bool
	size int64
}

// layerTar writes the tar of files: sorted, 0:0, fixed modes, mtime epoch.
func layerTar(files []File, epoch time.Time) ([]byte, error) {
	entries := map[string]entry{}
	var total int64
	for _, f := range files {
		if !path.IsAbs(f.Dst) || path.Clean(f.Dst) != f.Dst || f.Dst == "/" {
			return nil, fmt.Errorf("%w: destination %q is not a clean absolute file path", ErrSpec, f.Dst)
		}
		fi, err := os.Lstat(f.Src)
		if err != nil {
			return nil, fmt.Errorf("assemble: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a regular file (%s)", ErrSpec, f.Src, fi.Mode().Type())
		}
		total += fi.Size()
		if total > MaxLayerBytes {
			return nil, fmt.Errorf("%w: files %w (more than %d bytes)", ErrSpec, limits.ErrTooLarge, MaxLayerBytes)
		}
		name := strings.TrimPrefix(f.Dst, "/")
		if e, dup := entries[name]; dup && e.dir {
			return nil, fmt.Errorf("%w: %s is a file and a directory", ErrSpec, f.Dst)
		} else if dup {
			return nil, fmt.Errorf("%w: %s and %s both go to %s", ErrSpec, e.src, f.Src, f.Dst)
		}
		entries[name] = entry{name: name, src: f.Src, exec: fi.Mode().Perm()&0o111 != 0, size: fi.Size()}
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			if e, ok := entries[d]; ok && !e.dir {
				return nil, fmt.Errorf("%w: %s is a file and a directory", ErrSpec, "/"+d)
			}
			entries[d] = entry{name: d, dir: true}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range entries {
			if !yield(n) {
				return
			}
		}
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := entries[n]
		hdr := &tar.Header{Name: n, ModTime: epoch, Format: tar.FormatPAX}
		if e.dir {
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, n+"/", 0o755
		} else {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, e.size
			if e.exec {
				hdr.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("assemble: tar %s: %w", n, err)
		}
		if !e.dir {
			if err := copyFile(tw, e.src, e.size); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("assemble: tar: %w", err)
	}
	return buf.Bytes(), nil
}

// copyFile copies exactly size bytes of src: a file that changed size
// since it was examined fails instead of making a different layer.
func copyFile(w io.Writer, src string, size int64) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size+1))
	if err != nil {
		return fmt.Errorf("assemble: read %s: %w", src, err)
	}
	if n != size {
		return fmt.Errorf("assemble: %s changed size while being read", src)
	}
	return nil
}
