package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromiumPath is where Debian's chromium package installs the browser;
// scripts/install-chromium.sh installs it in CI.
const chromiumPath = "/usr/bin/chromium"

// runChromium runs headless Chromium on url with the extra flags and
// returns its stdout and stderr.
func runChromium(t *testing.T, url string, extra ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	home := t.TempDir()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--force-device-scale-factor=1", "--hide-scrollbars",
		"--enable-logging=stderr", "--v=0",
	}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, chromiumPath, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\nstderr:\n%s", strings.Join(extra, " "), err, errb.Bytes())
	}
	return out.Bytes(), errb.Bytes()
}

// RequireChromiumEnv, when set, turns a missing Chromium into a failure
// instead of a skip (.ci/run sets it after installing Chromium).
const RequireChromiumEnv = "HALLMARK_REQUIRE_CHROMIUM"

// TestChromiumRendersEvidenceChain loads the artifact page of a real
// artifact in headless Chromium, as a person would see it under the strict
// CSP, and checks the screenshot is a real rendering and the DOM holds the
// evidence chain.
func TestChromiumRendersEvidenceChain(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("headless browser test needs Debian's chromium at %s (run scripts/install-chromium.sh): %v", chromiumPath, err)
		if os.Getenv(RequireChromiumEnv) != "" { // .ci/run installs it and sets this
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	f := newFixture(t)
	srv := serve(t, f, withCompliance(t, f))
	url := srv.URL + "/ui/artifacts/" + f.app

	t.Run("dom", func(t *testing.T) {
		dom, stderr := runChromium(t, url, "--dump-dom")
		page := string(dom)
		if missing := inOrder(page,
			"Latest decisions", "dev:", "allow", "sandbox:", "allow", "staging:", "deny",
			"<h2>Provenance</h2>", fxBuilder, fxCommit, "sandbox (mount, net, pid, user), network off",
			"<h2>SBOM</h2>", "CycloneDX 1.6",
			"<h2>Scans</h2>", "1 high",
			"<h2>Rebuilds</h2>", fxRebuilder, "matched",
			"<h2>TEE</h2>", "sev-snp",
			"<h2>Approvals</h2>", "staging",
			"<h2>Gate decisions</h2>", "deny", "for staging", "source.ref_not_allowed", "allow", "for sandbox",
		); missing != "" {
			t.Errorf("rendered DOM lacks %q (or out of order):\n%s", missing, page)
		}
		if strings.Contains(page, "<script") {
			t.Errorf("rendered DOM has a script element")
		}
		// Chromium logs every resource the CSP refused; there must be none,
		// in particular not the stylesheet.
		if strings.Contains(string(stderr), "Content Security Policy") {
			t.Errorf("Chromium reports a CSP violation:\n%s", stderr)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "artifact.png")
		runChromium(t, url, "--screenshot="+file, "--window-size=1280,1600")
		if dir := os.Getenv("HALLMARK_WEB_SCREENSHOT_DIR"); dir != "" {
			defer copyFile(t, file, filepath.Join(dir, "artifact.png"))
		}
		img := decodePNG(t, file)
		if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1600 {
			t.Fatalf("screenshot is %dx%d, want 1280x1600", b.Dx(), b.Dy())
		}
		st := pixelStats(img)
		t.Logf("screenshot: %d distinct colours, %.1f%% non-white and %.1f%% dark pixels, %.1f%% header-coloured in the top band", st.colours, 100*st.nonWhite, 100*st.ink, 100*st.header)
		if st.colours < 16 {
			t.Errorf("screenshot has %d distinct colours; a rendered page with text and badges has many more", st.colours)
		}
		if st.nonWhite < 0.03 {
			t.Errorf("screenshot is %.2f%% non-white: the page looks blank", 100*st.nonWhite)
		}
		if st.ink < 0.005 {
			t.Errorf("screenshot has %.2f%% dark pixels: no text was drawn", 100*st.ink)
		}
		// The dark header comes from the stylesheet: it shows the CSS was
		// loaded under the CSP.
		if st.header < 0.5 {
			t.Errorf("only %.0f%% of the top band has the header colour: the stylesheet did not apply", 100*st.header)
		}
	})
}

// TestChromiumRendersCompliance loads the artifact's compliance page in
// headless Chromium under the strict CSP and checks the verdicts are
// rendered, badges and all.
func TestChromiumRendersCompliance(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("headless browser test needs Debian's chromium at %s (run scripts/install-chromium.sh): %v", chromiumPath, err)
		if os.Getenv(RequireChromiumEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	f := newFixture(t)
	srv := serve(t, f, withCompliance(t, f))
	url := srv.URL + "/ui/artifacts/" + f.app + "/compliance?env=dev"
	dom, stderr := runChromium(t, url, "--dump-dom")
	if missing := inOrder(string(dom), "Policy decision", "SLSA", "SLSA-BUILD-L1", "satisfied", "SSDF", "CRA"); missing != "" {
		t.Errorf("rendered DOM lacks %q (or out of order):\n%s", missing, dom)
	}
	if strings.Contains(string(stderr), "Content Security Policy") {
		t.Errorf("Chromium reports a CSP violation:\n%s", stderr)
	}
	file := filepath.Join(t.TempDir(), "compliance.png")
	runChromium(t, url, "--screenshot="+file, "--window-size=1280,1600")
	if dir := os.Getenv("HALLMARK_WEB_SCREENSHOT_DIR"); dir != "" {
		defer copyFile(t, file, filepath.Join(dir, "compliance.png"))
	}
	st := pixelStats(decodePNG(t, file))
	t.Logf("screenshot: %d distinct colours, %.1f%% non-white, %.1f%% dark, %.1f%% header-coloured in the top band", st.colours, 100*st.nonWhite, 100*st.ink, 100*st.header)
	if st.colours < 16 || st.nonWhite < 0.03 || st.ink < 0.005 || st.header < 0.5 {
		t.Errorf("screenshot does not look like a rendered, styled page: %+v", st)
	}
}

type stats struct {
	colours               int
	nonWhite, ink, header float64
}

// pixelStats counts distinct colours, the shares of non-white and of dark
// ("ink": text, the header) pixels, and the share of the top 20 pixel rows near the header colour #14243b.
func pixelStats(img image.Image) stats {
	b := img.Bounds()
	seen := map[color.RGBA]bool{}
	var nonWhite, ink, header, band int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			if c.R < 245 || c.G < 245 || c.B < 245 {
				nonWhite++
			}
			if c.R < 128 && c.G < 128 && c.B < 128 {
				ink++
			}
			if y-b.Min.Y < 20 {
				band++
				if near(c.R, 0x14) && near(c.G, 0x24) && near(c.B, 0x3b) {
					header++
				}
			}
		}
	}
	n := float64(b.Dx() * b.Dy())
	return stats{colours: len(seen), nonWhite: float64(nonWhite) / n, ink: float64(ink) / n, header: float64(header) / float64(band)}
}

func near(a, b uint8) bool { return max(a, b)-min(a, b) <= 8 }

func decodePNG(t *testing.T, file string) image.Image {
	t.Helper()
	r, err := os.Open(file)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", file, err)
	}
	return img
}

// copyFile keeps the screenshot for a person to look at
// (HALLMARK_WEB_SCREENSHOT_DIR).
func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o644)
	}
	if err != nil {
		t.Errorf("keep screenshot: %v", err)
	}
	fmt.Fprintln(os.Stderr, "screenshot kept at", to)
}
