package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/store"
)

// registryImage resolves arg, which must name an image in a registry, to
// its digest reference.
func (a *App) registryImage(ctx context.Context, arg string) (name.Digest, *oci.Resolver, error) {
	ref, err := artifact.Parse(arg)
	if err != nil {
		return name.Digest{}, nil, badInput(err)
	}
	if ref.Kind != artifact.KindImage || ref.Source != oci.SourceRegistry {
		return name.Digest{}, nil, usageError(fmt.Errorf("%s: evidence travels with images in a registry; name one as REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:HEX", arg))
	}
	art, err := a.resolveArtifact(ctx, arg)
	if err != nil {
		return name.Digest{}, nil, err
	}
	r, err := a.images()
	if err != nil {
		return name.Digest{}, nil, err
	}
	return art.Image.Ref, r, nil
}

// pushOCI attaches bundles about img to it in its registry: the files
// given, or else every stored bundle whose subject is the image.
func (a *App) pushOCI(ctx context.Context, image string, files []string) error {
	img, r, err := a.registryImage(ctx, image)
	if err != nil {
		return err
	}
	dg, err := digest.Parse(img.DigestStr())
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", image, err))
	}
	hex := dg.Hex()
	var bundles [][]byte
	var names []string
	if len(files) == 0 {
		s, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		recs, err := s.List(ctx, store.Query{Subject: dg})
		if err != nil {
			return storeError(err)
		}
		for _, rec := range recs {
			bundles, names = append(bundles, rec.Bundle), append(names, rec.ID)
		}
		if len(bundles) == 0 {
			return badInput(fmt.Errorf("no stored evidence about %s; name bundle files to attach", img))
		}
	}
	for _, f := range files {
		raw, err := a.readInput(f, limits.MaxBundleBytes)
		if err != nil {
			return err
		}
		bundles, names = append(bundles, raw), append(names, f)
	}
	for i, raw := range bundles {
		pt, err := statementAbout(raw, hex)
		if err != nil {
			return badInput(fmt.Errorf("%s: %w", names[i], err))
		}
		h, err := r.Attach(ctx, img, raw, pt, a.Now())
		if err != nil {
			return artifactError(err)
		}
		fmt.Fprintf(a.Stdout, "%s\t%s\t%s\n", h, pt, names[i])
	}
	fmt.Fprintf(a.Stderr, "attached %d bundle(s) to %s\n", len(bundles), img)
	return nil
}

// statementAbout returns the predicate type of the bundle's statement,
// which must name the image digest among its subjects. It does not verify
// the signature: whoever reads the bundle back verifies it.
func statementAbout(raw []byte, sha256Hex string) (string, error) {
	_, payload, err := attest.InspectUnverified(raw)
	if err != nil {
		return "", err
	}
	var st struct {
		PredicateType string           `json:"predicateType"`
		Subject       []attest.Subject `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return "", fmt.Errorf("statement: %w", err)
	}
	for _, s := range st.Subject {
		if strings.EqualFold(s.Digest["sha256"], sha256Hex) {
			return st.PredicateType, nil
		}
	}
	return "", fmt.Errorf("the statement is not about sha256:%s", sha256Hex)
}

// listRegistryEvidence prints the bundles attached to an image.
func (a *App) listRegistryEvidence(ctx context.Context, image, format string) error {
	img, r, err := a.registryImage(ctx, image)
	if err != nil {
		return err
	}
	refs, err := r.Referrers(ctx, img, 0)
	if err != nil {
		return artifactError(err)
	}
	if format == "json" {
		if refs == nil {
			refs = []oci.Referrer{}
		}
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(refs)
	}
	tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DIGEST\tTYPE\tCREATED")
	for _, ref := range refs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ref.Digest, ref.PredicateType, ref.Annotations[oci.AnnotationCreated])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "%d bundle(s) attached to %s\n", len(refs), img)
	return nil
}

func newEvidenceFetchCmd(app *App) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "fetch IMAGE --out DIR",
		Short: "Download the Sigstore bundles attached to an image in its registry (unverified)",
		Long: `fetch writes each Sigstore bundle attached to IMAGE (OCI 1.1 referrers, or the
referrers tag on registries without the API) to DIR/<manifest digest hex>.bundle.json.
The bundles are not verified: pass them to verify, or to gate with --bundle,
which verify them against the trust file before they count.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError(fmt.Errorf("--out is required"))
			}
			ctx := contextOf(cmd)
			img, r, err := app.registryImage(ctx, args[0])
			if err != nil {
				return err
			}
			refs, err := r.Referrers(ctx, img, 0)
			if err != nil {
				return artifactError(err)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return environmentErr(err)
			}
			for _, ref := range refs {
				b, err := r.FetchBundle(ctx, img, ref)
				if err != nil {
					return artifactError(err)
				}
				p := filepath.Join(out, ref.Digest.Hex+".bundle.json")
				if err := app.writeOutput(p, b); err != nil {
					return err
				}
				fmt.Fprintf(app.Stdout, "%s\t%s\n", p, ref.PredicateType)
			}
			fmt.Fprintf(app.Stderr, "fetched %d bundle(s) attached to %s\n", len(refs), img)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the bundles to")
	return cmd
}

// imageSource is the registry evidence of one image, whatever name the
// gate records for it.
type imageSource struct {
	e    *oci.RegistryEvidence
	repo string
}

func (s imageSource) Bundles(ctx context.Context, _ string, d digest.Digest) ([][]byte, error) {
	return s.e.Bundles(ctx, s.repo, d)
}

// imageEvidence is the gate's evidence source for `gate IMAGE
// --registry-evidence`: the bundles attached to the image in its registry.
func (a *App) imageEvidence(ctx context.Context, arg string) (gate.EvidenceSource, error) {
	img, r, err := a.registryImage(ctx, arg)
	if err != nil {
		return nil, err
	}
	e, err := oci.NewRegistryEvidence(r, 0, 0)
	if err != nil {
		return nil, environmentErr(err)
	}
	return imageSource{e: e, repo: img.Context().Name()}, nil
}
