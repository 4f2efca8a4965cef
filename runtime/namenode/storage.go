package namenode

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/runtime/qjm"
)

// layoutVersion is written to VERSION as Hadoop 3's NameNode does; the
// image inside is hactl's own format (see imageMagic).
const layoutVersion = -66

// ErrNotFormatted means no name dir holds current/VERSION.
var ErrNotFormatted = errors.New("namenode is not formatted")

// ErrChecksum means an image does not match its recorded checksum.
var ErrChecksum = errors.New("fsimage checksum mismatch")

// Storage is the set of dfs.namenode.name.dir directories; every write goes
// to all of them so any one is enough to restart from.
type Storage struct {
	Dirs []string
}

func (s *Storage) current(dir string) string { return filepath.Join(dir, "current") }

// ImageName is the file name of the image at txid (fsimage_<19 digits>).
func ImageName(txid int64) string { return fmt.Sprintf("fsimage_%019d", txid) }

// HasData returns the first dir holding current/VERSION (the contract's
// definition of "holds data"), or "".
func (s *Storage) HasData() (string, error) {
	for _, d := range s.Dirs {
		_, err := os.Stat(filepath.Join(s.current(d), "VERSION"))
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("storage %s: %w", d, err)
		}
	}
	return "", nil
}

// Format empties every dir's current/ and writes VERSION, the empty image at
// txid 0 and seen_txid, so the NameNode can start from them.
func (s *Storage) Format(info qjm.NamespaceInfo, image []byte, txid int64) error {
	for _, d := range s.Dirs {
		cur := s.current(d)
		if err := os.RemoveAll(cur); err != nil {
			return fmt.Errorf("format %s: %w", d, err)
		}
		if err := os.MkdirAll(cur, 0o755); err != nil {
			return fmt.Errorf("format %s: %w", d, err)
		}
	}
	if err := s.SaveImage(txid, image); err != nil {
		return err
	}
	// VERSION last: a dir "holds data" only once it is complete.
	for _, d := range s.Dirs {
		if err := writeFileSync(filepath.Join(s.current(d), "VERSION"), versionFile(info)); err != nil {
			return fmt.Errorf("format %s: %w", d, err)
		}
	}
	return nil
}

func versionFile(info qjm.NamespaceInfo) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#%s\n", time.Now().UTC().Format("Mon Jan 02 15:04:05 MST 2006"))
	fmt.Fprintf(&b, "namespaceID=%d\nclusterID=%s\ncTime=%d\nstorageType=NAME_NODE\nblockpoolID=%s\nlayoutVersion=%d\n",
		info.NamespaceID, info.ClusterID, info.CTime, info.BlockPoolID, layoutVersion)
	return b.Bytes()
}

// ReadVersion reads current/VERSION from the first dir that has it and checks
// that every other dir that has one agrees.
func (s *Storage) ReadVersion() (qjm.NamespaceInfo, error) {
	var found *qjm.NamespaceInfo
	for _, d := range s.Dirs {
		data, err := os.ReadFile(filepath.Join(s.current(d), "VERSION"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return qjm.NamespaceInfo{}, fmt.Errorf("storage %s: %w", d, err)
		}
		info, err := parseVersion(data)
		if err != nil {
			return qjm.NamespaceInfo{}, fmt.Errorf("storage %s: %w", d, err)
		}
		if found != nil && *found != info {
			return qjm.NamespaceInfo{}, fmt.Errorf("storage %s belongs to namespace %d/%s, not %d/%s", d, info.NamespaceID, info.ClusterID, found.NamespaceID, found.ClusterID)
		}
		found = &info
	}
	if found == nil {
		return qjm.NamespaceInfo{}, fmt.Errorf("%w: no current/VERSION in %s", ErrNotFormatted, strings.Join(s.Dirs, ", "))
	}
	return *found, nil
}

func parseVersion(data []byte) (qjm.NamespaceInfo, error) {
	var info qjm.NamespaceInfo
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		props[k] = v
	}
	if props["storageType"] != "NAME_NODE" {
		return info, fmt.Errorf("VERSION: storageType %q is not NAME_NODE", props["storageType"])
	}
	var err error
	if info.NamespaceID, err = strconv.ParseInt(props["namespaceID"], 10, 64); err != nil {
		return info, fmt.Errorf("VERSION: bad namespaceID %q", props["namespaceID"])
	}
	if info.CTime, err = strconv.ParseInt(props["cTime"], 10, 64); err != nil {
		return info, fmt.Errorf("VERSION: bad cTime %q", props["cTime"])
	}
	info.ClusterID, info.BlockPoolID = props["clusterID"], props["blockpoolID"]
	if info.ClusterID == "" {
		return info, fmt.Errorf("VERSION: no clusterID")
	}
	return info, nil
}

// SaveImage writes fsimage_<txid>, its checksum file and seen_txid to every
// dir, each through a temporary file and a rename so a crash never leaves a
// half image under the final name.
func (s *Storage) SaveImage(txid int64, image []byte) error {
	sum := sha256.Sum256(image)
	name := ImageName(txid)
	for _, d := range s.Dirs {
		cur := s.current(d)
		if err := writeFileSync(filepath.Join(cur, name), image); err != nil {
			return fmt.Errorf("save %s in %s: %w", name, d, err)
		}
		// The sha256sum format, as Hadoop's MD5FileUtils writes fsimage_N.md5.
		line := hex.EncodeToString(sum[:]) + " *" + name + "\n"
		if err := writeFileSync(filepath.Join(cur, name+".sha256"), []byte(line)); err != nil {
			return fmt.Errorf("save %s in %s: %w", name, d, err)
		}
		if err := s.writeSeen(d, txid); err != nil {
			return err
		}
	}
	return nil
}

func (s *Storage) writeSeen(dir string, txid int64) error {
	p := filepath.Join(s.current(dir), "seen_txid")
	if old, err := os.ReadFile(p); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(old)), 10, 64); err == nil && v >= txid {
			return nil
		}
	}
	if err := writeFileSync(p, []byte(strconv.FormatInt(txid, 10)+"\n")); err != nil {
		return fmt.Errorf("seen_txid in %s: %w", dir, err)
	}
	return nil
}

// WriteSeenTxid records the highest txid this NameNode has seen in the journal.
func (s *Storage) WriteSeenTxid(txid int64) error {
	for _, d := range s.Dirs {
		if err := s.writeSeen(d, txid); err != nil {
			return err
		}
	}
	return nil
}

// SeenTxid returns the highest seen_txid of the dirs (0 when none).
func (s *Storage) SeenTxid() int64 {
	var best int64
	for _, d := range s.Dirs {
		if b, err := os.ReadFile(filepath.Join(s.current(d), "seen_txid")); err == nil {
			if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > best {
				best = v
			}
		}
	}
	return best
}

// Images returns the txids of the images present in any dir, newest first.
func (s *Storage) Images() []int64 {
	seen := map[int64]bool{}
	for _, d := range s.Dirs {
		ents, _ := os.ReadDir(s.current(d))
		for _, e := range ents {
			rest, ok := strings.CutPrefix(e.Name(), "fsimage_")
			if !ok || len(rest) != 19 {
				continue
			}
			if v, err := strconv.ParseInt(rest, 10, 64); err == nil {
				seen[v] = true
			}
		}
	}
	var out []int64
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// ReadImage returns the bytes of fsimage_<txid> from the first dir where it
// matches its checksum.
func (s *Storage) ReadImage(txid int64) ([]byte, error) {
	name := ImageName(txid)
	var errs []error
	for _, d := range s.Dirs {
		cur := s.current(d)
		data, err := os.ReadFile(filepath.Join(cur, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		want, err := os.ReadFile(filepath.Join(cur, name+".sha256"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got := sha256.Sum256(data)
		hexsum, _, _ := strings.Cut(strings.TrimSpace(string(want)), " ")
		if hexsum != hex.EncodeToString(got[:]) {
			errs = append(errs, fmt.Errorf("%w: %s", ErrChecksum, filepath.Join(cur, name)))
			continue
		}
		return data, nil
	}
	return nil, fmt.Errorf("read %s: %w", name, errors.Join(errs...))
}

// LoadLatest decodes the newest image that passes its checksum.
func (s *Storage) LoadLatest(maxInline int64) (*Namespace, error) {
	var errs []error
	for _, txid := range s.Images() {
		data, err := s.ReadImage(txid)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ns, err := DecodeImage(data, maxInline)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ImageName(txid), err))
			continue
		}
		if ns.lastTxid != txid {
			errs = append(errs, fmt.Errorf("%s: holds txid %d", ImageName(txid), ns.lastTxid))
			continue
		}
		return ns, nil
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("no fsimage in %s", strings.Join(s.Dirs, ", "))
	}
	return nil, fmt.Errorf("no loadable fsimage: %w", errors.Join(errs...))
}

// Purge keeps the newest retain images (dfs.namenode.num.checkpoints.retained)
// and removes older ones; it returns the oldest retained txid.
func (s *Storage) Purge(retain int) (int64, error) {
	imgs := s.Images()
	if retain < 1 {
		retain = 1
	}
	if len(imgs) == 0 {
		return 0, nil
	}
	keep := imgs[:min(retain, len(imgs))]
	for _, txid := range imgs[len(keep):] {
		for _, d := range s.Dirs {
			for _, suffix := range []string{"", ".sha256"} {
				if err := os.Remove(filepath.Join(s.current(d), ImageName(txid)+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return 0, fmt.Errorf("purge %s: %w", ImageName(txid), err)
				}
			}
		}
	}
	return keep[len(keep)-1], nil
}

func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// NewNamespaceInfo makes the identity of a freshly formatted namespace, in
// Hadoop's shapes (clusterID CID-<uuid>, blockpoolID BP-<n>-<ip>-<ms>).
func NewNamespaceInfo(clusterID, ip string, now time.Time) qjm.NamespaceInfo {
	var r [20]byte
	rand.Read(r[:])
	if clusterID == "" {
		u := r[:16]
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		h := hex.EncodeToString(u)
		clusterID = "CID-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	}
	nsid := int64(binary.BigEndian.Uint32(r[16:]) & 0x7fffffff)
	if nsid == 0 {
		nsid = 1
	}
	bp := fmt.Sprintf("BP-%d-%s-%d", int64(binary.BigEndian.Uint32(r[12:])&0x7fffffff), ip, now.UnixMilli())
	return qjm.NamespaceInfo{NamespaceID: nsid, ClusterID: clusterID, CTime: 0, BlockPoolID: bp}
}
