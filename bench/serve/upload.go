package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
)

// upload posts new approval bundles at a steady rate, round robin over the
// servers, and writes the ID of every acknowledged (201) upload to -acked.
func upload(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upload", flag.ExitOnError)
	dir := fs.String("dir", "", "setup directory (approver key)")
	urls := fs.String("url", "https://127.0.0.1:8443", "server base URLs, comma-separated")
	rate := fs.Int("rate", 50, "uploads per second")
	duration := fs.Duration("duration", 20*time.Second, "how long")
	offset := fs.Int("offset", 1_000_000, "first artifact index for the new bundles")
	acked := fs.String("acked", "", "file receiving acknowledged IDs")
	fs.Parse(args)
	approver, err := keys.LoadPrivateKeyFile(filepath.Join(*dir, "approver.key"), []byte(Passphrase))
	if err != nil {
		return err
	}
	var targets []string
	for _, u := range strings.Split(*urls, ",") {
		p, err := loopbackURL(u)
		if err != nil {
			return err
		}
		targets = append(targets, strings.TrimSuffix(p.String(), "/")+"/v1/bundles")
	}
	client, err := httpClient(filepath.Join(*dir, "tls.crt"), 64)
	if err != nil {
		return err
	}
	f, err := os.Create(*acked)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	total := int(duration.Seconds() * float64(*rate))
loop:
	for n := range total {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		i := *offset + n
		a, _ := gate.NewApproval(digest.MustParse(ArtifactDigest(i)), "prod", "upload during faults", time.Now())
		v, err := sign(ctx, approver, gate.ApprovalPredicateType, a, subject(i))
		if err != nil {
			return err
		}
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, targets[n%len(targets)], bytes.NewReader(v.Raw))
			req.Header.Set("Authorization", "Bearer "+Token)
			resp, err := client.Do(req)
			outcome := "transport_error"
			var rec store.Record
			if err == nil {
				if resp.StatusCode == http.StatusCreated && json.NewDecoder(resp.Body).Decode(&rec) == nil && rec.ID == v.ID {
					outcome = "acked"
				} else {
					outcome = fmt.Sprintf("http_%d", resp.StatusCode)
				}
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			counts[outcome]++
			if outcome == "acked" {
				fmt.Fprintln(w, rec.ID)
			}
		})
	}
	wg.Wait()
	fmt.Printf("uploads: %v\n", counts)
	return errors.Join(w.Flush(), f.Close())
}

// warm uploads again, through the server, the stored evidence of the
// artifacts [-from, -from+-count): what CI does before it deploys, so that
// the admission reviews of these artifacts meet evidence the server
// verified at upload (its steady state), not evidence written to the store
// behind its back by setup.
func warm(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("warm", flag.ExitOnError)
	dir := fs.String("dir", "", "setup directory (store, TLS certificate)")
	url := fs.String("url", "https://127.0.0.1:8443", "server base URL")
	from := fs.Int("from", 0, "first artifact index")
	count := fs.Int("count", 1000, "artifacts")
	conns := fs.Int("conns", 8, "concurrent uploads")
	fs.Parse(args)
	p, err := loopbackURL(*url)
	if err != nil {
		return err
	}
	target := strings.TrimSuffix(p.String(), "/") + "/v1/bundles"
	client, err := httpClient(filepath.Join(*dir, "tls.crt"), *conns)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dir)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	bundles := make(chan []byte)
	var sent atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, *conns)
	for range *conns {
		wg.Go(func() {
			for raw := range bundles {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
				req.Header.Set("Authorization", "Bearer "+Token)
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("upload: HTTP %d", resp.StatusCode)
					}
				}
				if err != nil {
					errc <- err
					return
				}
				sent.Add(1)
			}
		})
	}
	err = func() error {
		defer close(bundles)
		for i := *from; i < *from+*count; i++ {
			recs, err := st.List(ctx, store.Query{Subject: digest.MustParse(ArtifactDigest(i))})
			if err != nil {
				return err
			}
			for _, r := range recs {
				select {
				case bundles <- r.Bundle:
				case err := <-errc:
					return err
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return nil
	}()
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	fmt.Printf("warm: uploaded %d bundles of artifacts %d..%d through the server in %s\n", sent.Load(), *from, *from+*count-1, time.Since(start).Round(time.Millisecond))
	return err
}

// check counts the acknowledged uploads missing from the store, and the
// allowed admission answers with no allow decision recorded.
func check(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	dir := fs.String("dir", "", "setup directory (its store is checked)")
	acked := fs.String("acked", "", "file of acknowledged upload IDs")
	allowed := fs.String("allowed", "", "file of digests answered allowed")
	fs.Parse(args)
	st, err := openStore(ctx, *dir)
	if err != nil {
		return err
	}
	defer st.Close()
	lines := func(path string) ([]string, error) {
		if path == "" {
			return nil, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return strings.Fields(string(b)), nil
	}
	ids, err := lines(*acked)
	if err != nil {
		return err
	}
	missing := 0
	for _, id := range ids {
		if _, err := st.Get(ctx, id); err != nil {
			missing++
			fmt.Printf("  acknowledged upload %s not stored: %v\n", id, err)
		}
	}
	digests, err := lines(*allowed)
	if err != nil {
		return err
	}
	unrecorded := 0
	seen := map[string]bool{}
	for _, d := range digests {
		if seen[d] {
			continue
		}
		seen[d] = true
		recs, err := st.List(ctx, store.Query{Subject: digest.MustParse(d), PredicateType: gate.DecisionPredicateType})
		if err != nil {
			return err
		}
		ok := false
		for _, r := range recs {
			_, payload, err := attest.InspectUnverified(r.Bundle)
			if err != nil {
				return err
			}
			var x struct{ Predicate gate.Decision }
			if err := json.Unmarshal(payload, &x); err != nil {
				return err
			}
			ok = ok || (x.Predicate.Allowed && x.Predicate.Source == "admission")
		}
		if !ok {
			unrecorded++
		}
	}
	fmt.Printf("check: %d acknowledged uploads, %d missing from the store; %d distinct allowed digests, %d without a recorded allow decision\n", len(ids), missing, len(seen), unrecorded)
	if missing > 0 || unrecorded > 0 {
		return errors.New("check failed")
	}
	return nil
}
