package namenode

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrImageTooLarge is an uploaded image past maxImageBytes.
var ErrImageTooLarge = errors.New("uploaded image too large")

// receiveImage streams an uploaded image into a temporary file
// fsimage.ckpt_<txid>.* in dir (Hadoop's name for a checkpoint in transfer;
// Images never lists it), hashing it on the way, and returns the file's path
// once the whole body arrived, its signature held (body is the verifier's
// reader, which fails at EOF on a body other than the one signed) and its
// sha256 is wantSum. Memory stays a copy buffer whatever the image's size.
// On any error nothing is left in dir.
func receiveImage(body io.Reader, dir string, txid int64, wantSum string, limit int64) (path string, err error) {
	removeStaleUploads(dir, time.Now().Add(-staleUploadAge))
	f, err := os.CreateTemp(dir, "fsimage.ckpt_"+strconv.FormatInt(txid, 10)+".*")
	if err != nil {
		return "", fmt.Errorf("receive image: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("receive image: %w", cerr)
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	// One byte past the limit tells a body at the limit from a larger one.
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, limit+1))
	if err != nil {
		return "", fmt.Errorf("receive image: %w", err)
	}
	if n > limit {
		return "", fmt.Errorf("%w: more than %d bytes", ErrImageTooLarge, limit)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSum {
		return "", fmt.Errorf("%w: body %s, header %q", ErrChecksum, got, wantSum)
	}
	return f.Name(), nil
}

// uploadDir is where receiveImage puts an upload: the first name dir's
// current/, next to the images it may join.
func (n *NameNode) uploadDir() string {
	if len(n.storage.Dirs) == 0 {
		return os.TempDir()
	}
	return filepath.Join(n.storage.Dirs[0], "current")
}

// staleUploadAge is how old an fsimage.ckpt_* file must be to count as left
// by an upload that died with its NameNode (no live upload takes a day).
const staleUploadAge = 24 * time.Hour

// removeStaleUploads deletes the uploads in dir last written before cutoff.
func removeStaleUploads(dir string, cutoff time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "fsimage.ckpt_") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
