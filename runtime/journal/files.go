package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/hactl/hactl/runtime/rpc"
)

// segmentMagic starts every segment file; the last two bytes are the format version.
var segmentMagic = []byte("HQJEDT01")

const headerLen = 8

func finalizedName(start, end int64) string { return fmt.Sprintf("edits_%019d-%019d", start, end) }
func inProgressName(start int64) string     { return fmt.Sprintf("edits_inprogress_%019d", start) }

var (
	finalizedRe  = regexp.MustCompile(`^edits_(\d+)-(\d+)$`)
	inProgressRe = regexp.MustCompile(`^edits_inprogress_(\d+)$`)
)

// segFile is a segment found in a journal's current/ directory.
type segFile struct {
	rpc.SegmentState
	name string
}

// listSegments lists the segment files of dir sorted by start txid (finalized
// before in-progress for the same start).
func listSegments(dir string) ([]segFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []segFile
	for _, e := range ents {
		n := e.Name()
		if m := finalizedRe.FindStringSubmatch(n); m != nil {
			s, _ := strconv.ParseInt(m[1], 10, 64)
			en, _ := strconv.ParseInt(m[2], 10, 64)
			out = append(out, segFile{rpc.SegmentState{StartTxid: s, EndTxid: en}, n})
		} else if m := inProgressRe.FindStringSubmatch(n); m != nil {
			s, _ := strconv.ParseInt(m[1], 10, 64)
			out = append(out, segFile{rpc.SegmentState{StartTxid: s, EndTxid: -1, InProgress: true}, n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].StartTxid != out[j].StartTxid {
			return out[i].StartTxid < out[j].StartTxid
		}
		return !out[i].InProgress && out[j].InProgress
	})
	return out, nil
}

// scanResult is what a segment file holds.
type scanResult struct {
	lastTxid int64 // start-1 when it holds no edit
	validLen int64 // bytes up to the end of the last good record
	count    int64
}

// scanSegment reads a segment file, checking framing, checksums and that txids
// run contiguously from start. It stops at the first torn or out-of-order record.
func scanSegment(path string, start int64) (scanResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return scanResult{}, err
	}
	defer f.Close()
	return scanReader(bufio.NewReaderSize(f, 256<<10), start, nil)
}

// scanReader scans records from r; each good edit is passed to fn when non-nil.
func scanReader(r *bufio.Reader, start int64, fn func(rpc.Edit) error) (scanResult, error) {
	res := scanResult{lastTxid: start - 1}
	hdr := make([]byte, headerLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return res, nil // a torn header is an empty segment
	}
	if string(hdr) != string(segmentMagic) {
		return res, fmt.Errorf("not a hactl segment file (header %q)", hdr)
	}
	res.validLen = headerLen
	var h [rpc.RecordHeaderLen]byte
	buf := make([]byte, 0, 4096)
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return res, nil
		}
		n := int(uint32(h[0])<<24 | uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3]))
		if n > rpc.MaxRecordLen {
			return res, nil
		}
		if cap(buf) < rpc.RecordHeaderLen+n {
			buf = make([]byte, 0, rpc.RecordHeaderLen+n)
		}
		buf = append(buf[:0], h[:]...)
		buf = buf[:rpc.RecordHeaderLen+n]
		if _, err := io.ReadFull(r, buf[rpc.RecordHeaderLen:]); err != nil {
			return res, nil
		}
		e, _, err := rpc.ReadRecord(buf)
		if err != nil || e.Txid != res.lastTxid+1 {
			return res, nil
		}
		if fn != nil {
			e.Data = append([]byte(nil), e.Data...)
			if err := fn(e); err != nil {
				return res, err
			}
		}
		res.lastTxid = e.Txid
		res.validLen += int64(len(buf))
		res.count++
	}
}

// syncDir fsyncs a directory so a created, renamed or removed entry survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// writeFileAtomic writes data to path via a temporary file, fsync and rename,
// then fsyncs the directory (Hadoop's AtomicFileOutputStream).
func writeFileAtomic(path string, data []byte, noSync bool) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if !noSync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if noSync {
		return nil
	}
	return syncDir(filepath.Dir(path))
}

func readLong(path string, def int64) (int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func fdatasync(f *os.File) error {
	return syscall.Fdatasync(int(f.Fd()))
}

// parseProperties reads a Java properties file (current/VERSION).
func parseProperties(b []byte) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}
