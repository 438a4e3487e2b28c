package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/assemble"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/store"
)

type imageFlags struct {
	keyless       bool
	base          string
	baseTagUnsafe bool
	files         []string
	entrypoint    []string
	cmd           []string
	env           []string
	labels        []string
	workDir       string
	platform      string
	epoch         string
	out           string
	push          string
	key           string
	provenance    string
}

func newImageCmd(app *App) *cobra.Command {
	var f imageFlags
	cmd := &cobra.Command{
		Use:   "image --file SRC=/DST... [--base REF@sha256:HEX|oci:DIR[:TAG]] (--out oci:DIR[:TAG] | --push REGISTRY/REPO:TAG)",
		Short: "Assemble a container image from build products, reproducibly",
		Long: `Assemble a container image the way ko does: the --file products become one
layer on top of the --base image (default: scratch, an empty image), and the
inputs alone decide the manifest digest. Layer entries are sorted, owned by
0:0, with mode 0755 for directories and executables and 0644 for other files,
and modified at SOURCE_DATE_EPOCH (--source-date-epoch, else the environment's
SOURCE_DATE_EPOCH, else 0); the config's and history's created time is the
same epoch. Nothing of the host (paths, owners, umask, times) enters the image.

The base must be pinned by digest (REGISTRY/REPO@sha256:HEX) or be an OCI
layout (oci:DIR[:TAG]); a base named by tag alone is refused unless
--base-tag-unsafe, because the tag may name another image tomorrow. For a
multi-platform base, --platform (default linux/amd64) picks the manifest.

--out writes an OCI image layout (its index.json is replaced); --push uploads
to a registry. The manifest digest is printed on stdout. With --key (or
--keyless), an SLSA
provenance whose subject is the image (named by its repository) and whose
resolved dependencies are the base image, each product's SHA-256 and the
stored provenance bundles of the products is signed and stored.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.runImage(contextOf(cmd), f, imageCommand(cmd))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.base, "base", "", "base image: REGISTRY/REPO@sha256:HEX or oci:DIR[:TAG] (default: scratch)")
	fl.BoolVar(&f.baseTagUnsafe, "base-tag-unsafe", false, "accept a base named by tag only (what it names may change)")
	fl.StringArrayVar(&f.files, "file", nil, "SRC=/DST: put file SRC at /DST in the image (repeatable)")
	fl.StringArrayVar(&f.entrypoint, "entrypoint", nil, "entrypoint argument (repeatable; replaces the base's entrypoint and command)")
	fl.StringArrayVar(&f.cmd, "cmd", nil, "command argument (repeatable)")
	fl.StringArrayVar(&f.env, "env", nil, "KEY=VALUE environment variable (repeatable)")
	fl.StringArrayVar(&f.labels, "label", nil, "KEY=VALUE label (repeatable)")
	fl.StringVar(&f.workDir, "workdir", "", "working directory of the image")
	fl.StringVar(&f.platform, "platform", "", "OS/ARCH[/VARIANT] of the image (default: the base's; linux/amd64 for scratch or a multi-platform base)")
	fl.StringVar(&f.epoch, "source-date-epoch", "", "Unix seconds for every time in the image (default $SOURCE_DATE_EPOCH, else 0)")
	fl.StringVar(&f.out, "out", "", "write an OCI image layout: oci:DIR[:TAG]")
	fl.StringVar(&f.push, "push", "", "push to REGISTRY/REPO:TAG")
	fl.StringVar(&f.key, "key", "", "sign and store the image's provenance with this private key")
	fl.BoolVar(&f.keyless, "keyless", false, keylessUsage)
	fl.StringVar(&f.provenance, "provenance", "", "also write the signed provenance bundle to this file (with --key)")
	return cmd
}

// imageProduct is one --file: where it comes from, where it goes, its hash.
type imageProduct struct {
	src, dst string
	sha256   string
}

func (a *App) runImage(ctx context.Context, f imageFlags, argv []string) error {
	if f.out == "" && f.push == "" {
		return usageError(errors.New("say where the image goes: --out oci:DIR[:TAG] and/or --push REGISTRY/REPO:TAG"))
	}
	if f.provenance != "" && f.key == "" && !f.keyless {
		return usageError(errors.New("--provenance needs --key or --keyless"))
	}
	if f.key != "" && f.keyless {
		return usageError(errors.New("--keyless and --key exclude each other"))
	}
	spec := assemble.Spec{Entrypoint: f.entrypoint, Cmd: f.cmd, Env: f.env, WorkDir: f.workDir}
	epoch, err := a.sourceDateEpoch(f.epoch)
	if err != nil {
		return err
	}
	spec.Epoch = time.Unix(epoch, 0)
	if f.platform != "" {
		p, err := v1.ParsePlatform(f.platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return usageError(fmt.Errorf("--platform %q: want OS/ARCH[/VARIANT]", f.platform))
		}
		spec.Platform = p
	}
	for _, kv := range f.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageError(fmt.Errorf("--label %q: want KEY=VALUE", kv))
		}
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		spec.Labels[k] = v
	}
	var products []imageProduct
	for _, fv := range f.files {
		src, dst, ok := strings.Cut(fv, "=")
		if !ok || src == "" || !strings.HasPrefix(dst, "/") {
			return usageError(fmt.Errorf("--file %q: want SRC=/DST", fv))
		}
		set, err := digest.File(src, digest.SHA256)
		if err != nil {
			return badInput(fmt.Errorf("--file %s: %w", src, err))
		}
		products = append(products, imageProduct{src: src, dst: dst, sha256: set[digest.SHA256]})
		spec.Files = append(spec.Files, assemble.File{Src: src, Dst: dst})
	}
	var outRef artifact.Ref
	if f.out != "" {
		if outRef, err = artifact.Parse(f.out); err != nil || outRef.Source != oci.SourceLayout {
			return usageError(fmt.Errorf("--out %q: want oci:DIR[:TAG]", f.out))
		}
	}
	var pushRef name.Reference
	if f.push != "" {
		if pushRef, err = name.ParseReference(f.push); err != nil {
			return usageError(fmt.Errorf("--push %q: %w", f.push, err))
		}
	}

	base, baseArt, err := a.imageBase(ctx, f, spec.Platform)
	if err != nil {
		return err
	}
	img, err := assemble.Image(base, spec)
	if errors.Is(err, assemble.ErrSpec) {
		return usageError(err)
	} else if err != nil {
		return badInput(err)
	}
	dg, err := img.Digest()
	if err != nil {
		return badInput(fmt.Errorf("image: %w", err))
	}

	subjectName := ""
	if f.out != "" {
		if err := writeLayout(outRef.Path, outRef.Tag, f.push, img); err != nil {
			return environmentErr(err)
		}
		opened, err := oci.OpenLayout(outRef.Path, outRef.Tag)
		if err != nil {
			return environmentErr(err)
		}
		if opened.Digest != dg {
			return environmentErr(fmt.Errorf("layout %s holds %s, not the assembled %s", outRef.Path, opened.Digest, dg))
		}
		subjectName = opened.Name
		fmt.Fprintf(a.Stderr, "wrote OCI layout %s\n", outRef.Path)
	}
	if pushRef != nil {
		images, err := a.images()
		if err != nil {
			return err
		}
		pushed, err := images.Push(ctx, f.push, img)
		if err != nil {
			return artifactError(err)
		}
		subjectName = pushed.Context().Name()
		fmt.Fprintf(a.Stderr, "pushed %s\n", pushed)
	}
	fmt.Fprintln(a.Stdout, dg)
	if f.key == "" && !f.keyless {
		return nil
	}
	return a.signImageProvenance(ctx, f, argv, epoch, subjectName, dg, baseArt, products)
}

// sourceDateEpoch is --source-date-epoch, else $SOURCE_DATE_EPOCH, else 0.
func (a *App) sourceDateEpoch(flag string) (int64, error) {
	s, what := flag, "--source-date-epoch"
	if s == "" {
		s, what = a.Getenv("SOURCE_DATE_EPOCH"), "SOURCE_DATE_EPOCH"
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 253402300799 {
		return 0, usageError(fmt.Errorf("%s %q: want Unix seconds", what, s))
	}
	return n, nil
}

// imageBase opens --base: nil for scratch. A registry base must be pinned
// by digest unless --base-tag-unsafe; a multi-platform base gives the
// manifest of platform (linux/amd64 when nil).
func (a *App) imageBase(ctx context.Context, f imageFlags, platform *v1.Platform) (v1.Image, *artifact.Artifact, error) {
	if f.base == "" || f.base == "scratch" {
		return nil, nil, nil
	}
	ref, err := artifact.Parse(f.base)
	if err != nil || ref.Kind != artifact.KindImage {
		return nil, nil, usageError(fmt.Errorf("--base %q: want REGISTRY/REPO@sha256:HEX or oci:DIR[:TAG]", f.base))
	}
	if ref.Source == oci.SourceRegistry {
		if _, pinned := mustParseRef(ref.Ref).(name.Digest); !pinned && !f.baseTagUnsafe {
			return nil, nil, usageError(fmt.Errorf("--base %s is named by tag only: pin it as %s@sha256:HEX (or accept a moving base with --base-tag-unsafe)", f.base, f.base))
		}
	}
	art, err := a.resolveArtifact(ctx, f.base)
	if err != nil {
		return nil, nil, err
	}
	if !art.Image.IsIndex() {
		if platform != nil {
			cf, err := art.Image.Image.ConfigFile()
			if err != nil {
				return nil, nil, badInput(fmt.Errorf("--base %s: config: %w", f.base, err))
			}
			if cf.OS != platform.OS || cf.Architecture != platform.Architecture {
				return nil, nil, usageError(fmt.Errorf("--base %s is %s/%s, not --platform %s", f.base, cf.OS, cf.Architecture, f.platform))
			}
		}
		return art.Image.Image, art, nil
	}
	want := v1.Platform{OS: "linux", Architecture: "amd64"}
	if platform != nil {
		want = *platform
	}
	im, err := art.Image.Index.IndexManifest()
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("--base %s: %w", f.base, err))
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Satisfies(want) && d.MediaType.IsImage() {
			img, err := art.Image.Index.Image(d.Digest)
			if err != nil {
				return nil, nil, artifactError(fmt.Errorf("--base %s: %s: %w", f.base, d.Digest, err))
			}
			return img, art, nil
		}
	}
	return nil, nil, usageError(fmt.Errorf("--base %s has no %s image", f.base, want.String()))
}

// imageCommand is the command line as the flags parsed it, for the
// provenance: "hallmark image --flag=value...", flags in name order.
func imageCommand(cmd *cobra.Command) []string {
	out := []string{"hallmark", "image"}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+fl.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+fl.Name+"="+fl.Value.String())
	})
	return out
}

func mustParseRef(s string) name.Reference {
	r, err := name.ParseReference(s)
	if err != nil {
		return nil
	}
	return r
}

// writeLayout writes img as the only manifest of the OCI layout dir, named
// by tag (or by the push reference) when given.
func writeLayout(dir, tag, push string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	refName := tag
	if push != "" && tag == "" {
		refName = push
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{oci.RefNameAnnotation: refName}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return nil
}

// signImageProvenance signs and stores the SLSA provenance of the image
// at dg: its resolved dependencies are the base, each product and the
// stored provenance bundles about each product.
func (a *App) signImageProvenance(ctx context.Context, f imageFlags, argv []string, epoch int64, subject string, dg v1.Hash, base *artifact.Artifact, products []imageProduct) error {
	signer, err := a.evidenceSigner(f.key, f.keyless)
	if err != nil {
		return err
	}
	var deps []provenance.Dependency
	if base != nil {
		deps = append(deps, provenance.Dependency{URI: "oci://" + base.Name, Digest: base.Digest.Set(), Origin: "base image"})
	}
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, p := range products {
		src := filepath.ToSlash(filepath.Clean(p.src))
		deps = append(deps, provenance.Dependency{URI: "file:" + src, Digest: digest.Set{digest.SHA256: p.sha256}, Origin: "product at " + p.dst})
		pd, err := digest.New(digest.SHA256, p.sha256)
		if err != nil {
			return environmentErr(fmt.Errorf("%s: %w", src, err))
		}
		recs, err := s.List(ctx, store.Query{Subject: pd, PredicateType: provenance.PredicateType, Limit: 16})
		if err != nil {
			return storeError(err)
		}
		for _, r := range recs {
			id, err := digest.Parse(r.ID)
			if err != nil {
				continue
			}
			deps = append(deps, provenance.Dependency{URI: "hallmark:evidence/" + r.ID, Digest: id.Set(), Origin: "provenance of " + src})
		}
	}
	if subject == "" {
		subject = "image"
	}
	now := a.Now()
	st, err := provenance.Statement(provenance.Facts{
		InvocationID:    uuid.NewString(),
		Command:         argv,
		SourceDateEpoch: epoch,
		Sandbox:         provenance.Sandbox{Requested: "off", FallbackReason: "image assembly runs no build command"},
		Dependencies:    deps,
		StartedOn:       now,
		FinishedOn:      now,
		Products:        []provenance.Artifact{{Name: subject, Digest: digest.Set{dg.Algorithm: dg.Hex}}},
	})
	if err != nil {
		return environmentErr(err)
	}
	_, bundle, rec, who, err := a.signWith(ctx, signer, st)
	if err != nil {
		return err
	}
	if f.provenance != "" {
		if err := a.writeOutput(f.provenance, bundle); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.Stderr, "signed image provenance by %s\nstored %s\n", who, rec.ID)
	return nil
}
