package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func review(uid, digest string) []byte {
	return fmt.Appendf(nil, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":%q,`+
		`"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},`+
		`"namespace":"bench","name":"p","operation":"CREATE","userInfo":{"username":"bench"},`+
		`"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"bench"},`+
		`"spec":{"containers":[{"name":"app","image":"registry.local/bench/app@%s"}]}}}}`, uid, digest)
}

type result struct {
	at      time.Duration // since start
	latency time.Duration
	outcome string // allowed, denied, http_error, transport_error
	digest  string
}

// load sends admission reviews at a steady rate (open loop: a request
// starts every 1/rate whatever the previous ones do, up to -inflight at
// once) and reports latency percentiles and throughput.
func load(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	urls := fs.String("url", "https://127.0.0.1:8443", "server base URLs, comma-separated (round robin)")
	ca := fs.String("ca", "", "CA certificate PEM of the server")
	rate := fs.Int("rate", 500, "requests per second")
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	mode := fs.String("mode", "miss", "miss: each request a distinct artifact; hit: a warmed hot set")
	artifacts := fs.Int("artifacts", 10_000, "artifacts in the store")
	offset := fs.Int("offset", 0, "first artifact index (miss mode)")
	hot := fs.Int("hot", 100, "hot set size (hit mode): the last artifacts")
	inflight := fs.Int("inflight", 256, "bound on concurrent requests")
	label := fs.String("label", "", "label for the summary line")
	timeline := fs.Bool("timeline", false, "print per-second outcome counts")
	endpoint := fs.String("endpoint", "validate", "validate, or mutate (the baseline: the images are pinned, so it decodes the review and answers without the gate)")
	allowedOut := fs.String("allowed-out", "", "write the digests answered allowed to this file")
	openConns := fs.Int("open-conns", 32, "connections opened to each server before the clock starts (GET /livez), as an API server keeps its webhook connections open; 0 opens them during the run")
	fs.Parse(args)
	var targets, bases []string
	for _, u := range strings.Split(*urls, ",") {
		p, err := loopbackURL(u)
		if err != nil {
			return err
		}
		bases = append(bases, strings.TrimSuffix(p.String(), "/"))
		targets = append(targets, bases[len(bases)-1]+"/admission/"+*endpoint)
	}
	client, err := httpClient(*ca, *inflight)
	if err != nil {
		return err
	}
	if err := openConnections(ctx, client, bases, min(*openConns, *inflight)); err != nil {
		return err
	}
	// send times a review from when it was due, not from when it went
	// out: a load generator that falls behind must not hide the wait
	// (coordinated omission).
	send := func(ctx context.Context, target, digest string, n int, due time.Time) result {
		start := due
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(review(fmt.Sprintf("bench-%d", n), digest)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		r := result{digest: digest}
		if err != nil {
			r.outcome = "transport_error"
			r.latency = time.Since(start)
			return r
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.latency = time.Since(start)
		if resp.StatusCode != 200 {
			r.outcome = "http_error"
			return r
		}
		var out struct {
			Response struct{ Allowed bool } `json:"response"`
		}
		if json.Unmarshal(body, &out) != nil {
			r.outcome = "http_error"
		} else if out.Response.Allowed {
			r.outcome = "allowed"
		} else {
			r.outcome = "denied"
		}
		return r
	}
	digestFor := func(n int) string {
		if *mode == "hit" {
			return ArtifactDigest(*artifacts - *hot + n%*hot)
		}
		return ArtifactDigest((*offset + n) % *artifacts)
	}
	if *mode != "hit" && *mode != "miss" {
		return fmt.Errorf("-mode %q: want hit or miss", *mode)
	}
	if *mode == "hit" && *endpoint == "validate" {
		for n := range *hot { // warm the cache of every target
			for _, t := range targets {
				if r := send(ctx, t, digestFor(n), -n, time.Now()); r.outcome != "allowed" {
					return fmt.Errorf("warm-up of %s: %s", digestFor(n), r.outcome)
				}
			}
		}
	}
	total := int(duration.Seconds() * float64(*rate))
	results := make([]result, total)
	sem := make(chan struct{}, *inflight)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(*rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	start := time.Now()
	sent := 0
	var late int
loop:
	for n := range total {
		// Each review is due at a fixed time from the start; none is
		// dropped when the generator runs late.
		due := start.Add(time.Duration(n) * interval)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				break loop
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			break loop
		}
		select {
		case sem <- struct{}{}:
		default:
			late++ // the bound was reached: wait, and count it
			sem <- struct{}{}
		}
		sent++
		wg.Go(func() {
			defer func() { <-sem }()
			r := send(ctx, targets[n%len(targets)], digestFor(n), n, due)
			r.at = time.Since(start)
			results[n] = r
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	results = results[:sent]
	counts := map[string]int{}
	var lat []time.Duration
	for _, r := range results {
		counts[r.outcome]++
		if r.outcome == "allowed" || r.outcome == "denied" {
			lat = append(lat, r.latency)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("%-28s mode=%s sent=%d in %.1fs (%.0f req/s) allowed=%d denied=%d http_error=%d transport_error=%d p50=%s p90=%s p99=%s max=%s inflight_waits=%d\n",
		*label, *mode+"/"+*endpoint, sent, elapsed.Seconds(), float64(sent)/elapsed.Seconds(), counts["allowed"], counts["denied"], counts["http_error"], counts["transport_error"],
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond), late)
	if *timeline {
		secs := int(elapsed.Seconds()) + 1
		per := make([]map[string]int, secs)
		perLat := make([][]time.Duration, secs)
		for i := range per {
			per[i] = map[string]int{}
		}
		for _, r := range results {
			i := min(secs-1, int(r.at.Seconds()))
			per[i][r.outcome]++
			if r.outcome == "allowed" || r.outcome == "denied" { // answered reviews, as in the summary
				perLat[i] = append(perLat[i], r.latency)
			}
		}
		for i, m := range per {
			l := perLat[i]
			slices.Sort(l)
			q := func(p float64) time.Duration {
				if len(l) == 0 {
					return 0
				}
				return l[min(len(l)-1, int(p*float64(len(l))))].Round(10 * time.Microsecond)
			}
			fmt.Printf("  t=%3ds allowed=%4d denied=%4d http_error=%4d transport_error=%4d p50=%s p99=%s max=%s\n", i, m["allowed"], m["denied"], m["http_error"], m["transport_error"], q(0.5), q(0.99), q(1))
		}
	}
	if *allowedOut != "" {
		f, err := os.Create(*allowedOut)
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for _, r := range results {
			if r.outcome == "allowed" {
				fmt.Fprintln(w, r.digest)
			}
		}
		if err := errors.Join(w.Flush(), f.Close()); err != nil {
			return err
		}
	}
	return nil
}

// openConnections opens n TLS connections to each base URL and leaves them
// idle in client's pool. A new load generator otherwise opens its
// connections during the first second of a run, and their handshakes
// (X25519MLKEM768 on both sides) land in that second's latencies and in
// the server's CPU, while the API server holds its connections to a
// webhook open across reviews.
func openConnections(ctx context.Context, client *http.Client, bases []string, n int) error {
	for _, base := range bases {
		errs := make(chan error, n)
		var ready sync.WaitGroup
		ready.Add(n)
		for range n {
			go func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/livez", nil)
				resp, err := client.Do(req)
				// Hold the connection (its body unread) until all n
				// are open, so that none is reused for another.
				ready.Done()
				ready.Wait()
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s/livez: %s", base, resp.Status)
					}
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				return fmt.Errorf("open connections: %w", err)
			}
		}
	}
	return nil
}
