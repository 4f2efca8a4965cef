package namenode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

// patternReader yields n bytes of a fixed pattern (seed varies it) without
// holding them: an image-sized body that costs no memory to send.
type patternReader struct {
	n, off int64
	seed   byte
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte(p.off+int64(i)) ^ p.seed
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternSum(n int64, seed byte) string {
	h := sha256.New()
	io.Copy(h, &patternReader{n: n, seed: seed})
	return hex.EncodeToString(h.Sum(nil))
}

// putImage sends a signed PUT /imagetransfer whose signature covers the
// pattern signedSeed while the body sent is the pattern sentSeed (equal for
// an honest peer), with checksum header sum; it returns the status.
func putImage(t *testing.T, addr string, txid, size int64, signedSeed, sentSeed byte, sum string) int {
	t.Helper()
	url := "http://" + addr + "/imagetransfer?putimage=1&txid=" + strconv.FormatInt(txid, 10)
	req, err := http.NewRequest(http.MethodPut, url, &patternReader{n: size, seed: sentSeed})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(&patternReader{n: size, seed: signedSeed}), nil }
	if err := auth.SignRequest(req, testSecret, time.Now()); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Image-Checksum", sum)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// An uploaded image goes to a file, not the heap: a 48 MiB upload refused
// for its checksum or its signature (checked once all of it arrived)
// allocates a small fraction of its size, leaves nothing in the name dir and
// changes no image.
func TestImageUploadStreamsToFileAndVerifiesFirst(t *testing.T) {
	j := NewMemJournal()
	nns := newFormatted(t, j, newClock(), "nn1")
	n := nns[0]
	if err := n.TransitionToActive(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := serve(t, n)
	const size = 48 << 20
	before := n.storage.Images()
	for _, tc := range []struct {
		name         string
		signed, sent byte
		sum          string
		want         int
	}{
		{"checksum header does not match", 1, 1, strings.Repeat("0", 64), http.StatusBadRequest},
		{"body is not the one signed", 1, 2, patternSum(size, 2), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			got := putImage(t, addr, 7, size, tc.signed, tc.sent, tc.sum)
			runtime.ReadMemStats(&m1)
			if got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			// Client and server in this process: both must stream.
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > size/6 {
				t.Errorf("a %d MiB upload allocated %d MiB", size>>20, alloc>>20)
			}
			for _, d := range n.storage.Dirs {
				ents, _ := os.ReadDir(filepath.Join(d, "current"))
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), "fsimage.ckpt") {
						t.Errorf("refused upload left %s in %s", e.Name(), d)
					}
				}
			}
			if imgs := n.storage.Images(); len(imgs) != len(before) || imgs[0] != before[0] {
				t.Errorf("images %v after a refused upload, were %v", imgs, before)
			}
		})
	}
}

// receiveImage refuses a body past its limit without reading further and
// leaves nothing behind; a body at the limit with its checksum is kept.
func TestReceiveImageLimit(t *testing.T) {
	dir := t.TempDir()
	_, err := receiveImage(&patternReader{n: 1 << 20}, dir, 3, patternSum(1<<20, 0), 1<<20-1)
	if !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("past the limit: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
	p, err := receiveImage(&patternReader{n: 1 << 20}, dir, 3, patternSum(1<<20, 0), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); int64(len(b)) != 1<<20 || !strings.HasPrefix(filepath.Base(p), "fsimage.ckpt_3.") {
		t.Fatalf("kept %s with %d bytes", p, len(b))
	}
}

// An upload left behind by a NameNode that died mid-transfer is removed by a
// later upload once it is a day old; a recent one (possibly live) is kept.
func TestReceiveImageRemovesStaleUploads(t *testing.T) {
	dir := t.TempDir()
	stale, recent := filepath.Join(dir, "fsimage.ckpt_5.111"), filepath.Join(dir, "fsimage.ckpt_6.222")
	for _, p := range []string{stale, recent} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	p, err := receiveImage(&patternReader{n: 10}, dir, 7, patternSum(10, 0), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a day-old upload was kept: %v", err)
	}
	for _, keep := range []string{recent, p} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s removed: %v", keep, err)
		}
	}
}
