package rpc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/hactl/hactl/runtime/auth"
)

// SegmentFetcher returns a function that downloads a finalized or in-progress
// segment from a JournalNode's HTTP endpoint (/getJournal, signed with the
// cluster secret), as segment recovery and the JournalNode syncer both do.
func SegmentFetcher(secret []byte) func(ctx context.Context, httpAddr, jid string, start int64) (io.ReadCloser, error) {
	client := &http.Client{Transport: &auth.Transport{Secret: secret}}
	return func(ctx context.Context, httpAddr, jid string, start int64) (io.ReadCloser, error) {
		u := fmt.Sprintf("http://%s/getJournal?jid=%s&segmentTxId=%d", httpAddr, url.QueryEscape(jid), start)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
		}
		return resp.Body, nil
	}
}
