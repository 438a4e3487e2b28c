package attest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// SigstoreAudience is the audience Fulcio expects of an ID token.
const SigstoreAudience = "sigstore"

// GitHubActionsIDToken asks the GitHub Actions token service for an OIDC
// ID token with the audience "sigstore", as a workflow with "id-token:
// write" may: requestURL and requestToken are the job's
// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func GitHubActionsIDToken(ctx context.Context, client *http.Client, requestURL, requestToken string) (string, error) {
	u, err := url.Parse(requestURL)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("GitHub Actions ID token request URL %q: want http(s)://host/...", requestURL)
	}
	q := u.Query()
	q.Set("audience", SigstoreAudience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions ID token: %w", err)
	}
	defer resp.Body.Close()
	body, err := limits.ReadAll(resp.Body, 64<<10, "GitHub Actions ID token response")
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GitHub Actions ID token: %s: %s", resp.Status, string(body[:min(len(body), 200)]))
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Value == "" {
		return "", fmt.Errorf("GitHub Actions ID token: response has no \"value\" (%v)", err)
	}
	return out.Value, nil
}
