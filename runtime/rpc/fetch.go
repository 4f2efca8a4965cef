package rpc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/hactl/hactl/runtime/auth"
)

// SegmentFetchFunc downloads the segment of journal jid starting at txid
// start from the JournalNode whose HTTP endpoint is httpAddr. With offset 0
// the response is the whole segment file; with offset > 0 it is the file's
// 8-byte header followed by the file from that byte offset on (still a valid
// segment stream), so a reader can continue where it stopped.
type SegmentFetchFunc func(ctx context.Context, httpAddr, jid string, start, offset int64) (io.ReadCloser, error)

// SegmentFetcher returns a function that downloads a finalized or in-progress
// segment from a JournalNode's HTTP endpoint (/getJournal, signed with the
// cluster secret), as segment recovery, the JournalNode syncer and edit
// reads all do.
func SegmentFetcher(secret []byte) SegmentFetchFunc {
	client := &http.Client{Transport: &auth.Transport{Secret: secret}}
	return func(ctx context.Context, httpAddr, jid string, start, offset int64) (io.ReadCloser, error) {
		u := fmt.Sprintf("http://%s/getJournal?jid=%s&segmentTxId=%d", httpAddr, url.QueryEscape(jid), start)
		if offset > 0 {
			u += fmt.Sprintf("&offset=%d", offset)
		}
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
