package datanode

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
)

// LayoutVersion is Hadoop 3's DataNode layout (BLOCKID_BASED_LAYOUT_32_by_32):
// finalized blocks live in finalized/subdir<(id>>16)&31>/subdir<(id>>8)&31>.
const LayoutVersion = -57

// ErrReplicaNotFound: the DataNode holds no replica of the block (Hadoop's
// ReplicaNotFoundException).
var ErrReplicaNotFound = errors.New("ReplicaNotFoundException")

// ErrReplicaExists: a replica of the block is already there (Hadoop's
// ReplicaAlreadyExistsException).
var ErrReplicaExists = errors.New("ReplicaAlreadyExistsException")

// ErrIncompatibleCluster: a data dir belongs to another cluster.
var ErrIncompatibleCluster = errors.New("incompatible clusterIDs")

// volume is one data dir (Hadoop's FsVolumeImpl).
type volume struct {
	root      string // the data dir
	storageID string // DS-<uuid>
	failed    bool
	failure   string
	used      map[string]int64 // pool → bytes of block and meta files
}

func (v *volume) current() string            { return filepath.Join(v.root, "current") }
func (v *volume) poolDir(pool string) string { return filepath.Join(v.current(), pool) }
func (v *volume) finalizedDir(pool string, id int64) string {
	return filepath.Join(v.poolDir(pool), "current", "finalized",
		"subdir"+strconv.FormatInt((id>>16)&0x1F, 10), "subdir"+strconv.FormatInt((id>>8)&0x1F, 10))
}
func (v *volume) rbwDir(pool string) string { return filepath.Join(v.poolDir(pool), "current", "rbw") }
func (v *volume) tmpDir(pool string) string { return filepath.Join(v.poolDir(pool), "tmp") }

// replica is the dataset's record of one block (Hadoop's ReplicaInfo).
type replica struct {
	pool     string
	id, gs   int64
	numBytes int64 // finalized: the length; otherwise the bytes on disk
	state    hdfs.ReplicaState
	vol      *volume
	dir      string
	// temporary: written by another DataNode's transfer into tmp/; becomes
	// finalized on completion.
	temporary  bool
	writer     *ReplicaWriter
	recoveryID int64
	origState  hdfs.ReplicaState // the state before recovery (RUR)
}

func (r *replica) dataPath() string { return filepath.Join(r.dir, "blk_"+strconv.FormatInt(r.id, 10)) }
func (r *replica) metaPath() string {
	return filepath.Join(r.dir, "blk_"+strconv.FormatInt(r.id, 10)+"_"+strconv.FormatInt(r.gs, 10)+".meta")
}
func (r *replica) block() hdfs.Block {
	return hdfs.Block{ID: r.id, GenStamp: r.gs, NumBytes: r.numBytes}
}

// Replica is a read-only view of a replica.
type Replica struct {
	hdfs.Block
	State       hdfs.ReplicaState
	StorageUUID string
	DataPath    string
	MetaPath    string
}

// Storage is the DataNode's dataset: its data dirs, one block pool per
// nameservice in each, and the replica map (Hadoop's DataStorage with
// FsDatasetImpl).
type Storage struct {
	mu        sync.Mutex
	vols      []*volume
	clusterID string
	dnUUID    string
	pools     map[string]int64 // pool → namespaceID
	replicas  map[string]map[int64]*replica
	next      int
	reserved  int64
	// syncBehind: writers start the disk's writeback of every
	// syncBehindBytes written (dfs.datanode.sync.behind.writes).
	syncBehind atomic.Bool
	// dropBehind: writers also drop what was written back from the page
	// cache (dfs.datanode.drop.cache.behind.writes).
	dropBehind atomic.Bool
	// onVolumeFailure is called (without the lock) after a volume failed.
	onVolumeFailure func(root string, err error)
}

// StorageDirs parses dfs.datanode.data.dir entries: "[DISK]file:///a" → "/a".
func StorageDirs(entries []string) ([]string, error) {
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e, "[") {
			i := strings.IndexByte(e, ']')
			if i < 0 {
				return nil, fmt.Errorf("data dir %q: unterminated storage type", e)
			}
			e = e[i+1:]
		}
		e = strings.TrimPrefix(e, "file://")
		if !filepath.IsAbs(e) {
			return nil, fmt.Errorf("data dir %q is not an absolute path", e)
		}
		out = append(out, filepath.Clean(e))
	}
	if len(out) == 0 {
		return nil, errors.New("dfs.datanode.data.dir names no directory")
	}
	return out, nil
}

// OpenStorage opens the data dirs. A dir that cannot be created or read is a
// failed volume; more than tolerated failed volumes is an error. Formatted
// dirs must agree on clusterID and datanodeUuid: a DataNode never mixes two
// clusters' data, and never wipes a dir to make it fit.
func OpenStorage(dirs []string, reserved int64, tolerated int) (*Storage, error) {
	s := &Storage{pools: map[string]int64{}, replicas: map[string]map[int64]*replica{}, reserved: reserved}
	clusterOf := map[string]string{}
	for _, d := range dirs {
		v := &volume{root: d, used: map[string]int64{}}
		s.vols = append(s.vols, v)
		if err := os.MkdirAll(d, 0o700); err != nil {
			v.failed, v.failure = true, err.Error()
			continue
		}
		props, err := readProps(filepath.Join(v.current(), "VERSION"))
		if errors.Is(err, os.ErrNotExist) {
			if err := probeWritable(d); err != nil {
				v.failed, v.failure = true, err.Error()
			}
			continue
		}
		if err != nil {
			v.failed, v.failure = true, err.Error()
			continue
		}
		if props["storageType"] != "DATA_NODE" {
			return nil, fmt.Errorf("data dir %s: current/VERSION has storageType=%q, not DATA_NODE: refusing to use another daemon's storage", d, props["storageType"])
		}
		v.storageID = props["storageID"]
		clusterOf[d] = props["clusterID"]
		if s.clusterID == "" {
			s.clusterID = props["clusterID"]
		} else if props["clusterID"] != s.clusterID {
			return nil, fmt.Errorf("data dirs of different clusters (%s: %s, %s): %w; a DataNode never mixes clusters' data and never wipes a dir, move the foreign dir away", d, props["clusterID"], describe(clusterOf, s.clusterID), ErrIncompatibleCluster)
		}
		if u := props["datanodeUuid"]; u != "" {
			if s.dnUUID != "" && s.dnUUID != u {
				return nil, fmt.Errorf("data dir %s: datanodeUuid %s differs from %s of the other dirs", d, u, s.dnUUID)
			}
			s.dnUUID = u
		}
	}
	if f := s.failedCount(); f > tolerated || f == len(s.vols) {
		return nil, fmt.Errorf("%d of %d data dirs failed (dfs.datanode.failed.volumes.tolerated=%d): %s", f, len(s.vols), tolerated, s.failures())
	}
	return s, nil
}

func describe(clusterOf map[string]string, id string) string {
	var parts []string
	for d, c := range clusterOf {
		if c == id {
			parts = append(parts, d+": "+c)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func (s *Storage) failedCount() int {
	n := 0
	for _, v := range s.vols {
		if v.failed {
			n++
		}
	}
	return n
}

func (s *Storage) failures() string {
	var parts []string
	for _, v := range s.vols {
		if v.failed {
			parts = append(parts, v.root+": "+v.failure)
		}
	}
	return strings.Join(parts, "; ")
}

// ClusterID is the storage's cluster, "" while no dir is formatted.
func (s *Storage) ClusterID() string { s.mu.Lock(); defer s.mu.Unlock(); return s.clusterID }

// DatanodeUUID is the DataNode's identity, "" before Format.
func (s *Storage) DatanodeUUID() string { s.mu.Lock(); defer s.mu.Unlock(); return s.dnUUID }

// StorageUUIDs are the working volumes' storage IDs.
func (s *Storage) StorageUUIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range s.vols {
		if !v.failed && v.storageID != "" {
			out = append(out, v.storageID)
		}
	}
	return out
}

// FailedVolumes lists the failed data dirs with their reasons.
func (s *Storage) FailedVolumes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range s.vols {
		if v.failed {
			out = append(out, v.root+": "+v.failure)
		}
	}
	return out
}

// Format gives every unformatted dir a VERSION of clusterID (the
// handshake's), and refuses a clusterID other than the storage's.
func (s *Storage) Format(clusterID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clusterID != "" && s.clusterID != clusterID {
		return fmt.Errorf("storage is of cluster %s, the NameNode's is %s: %w", s.clusterID, clusterID, ErrIncompatibleCluster)
	}
	if s.dnUUID == "" {
		s.dnUUID = newUUID()
	}
	for _, v := range s.vols {
		if v.failed || v.storageID != "" {
			continue
		}
		v.storageID = "DS-" + newUUID()
		props := map[string]string{
			"storageID":     v.storageID,
			"clusterID":     clusterID,
			"cTime":         "0",
			"datanodeUuid":  s.dnUUID,
			"storageType":   "DATA_NODE",
			"layoutVersion": strconv.Itoa(LayoutVersion),
		}
		if err := writeProps(filepath.Join(v.current(), "VERSION"), props); err != nil {
			s.failLocked(v, err)
			continue
		}
	}
	s.clusterID = clusterID
	return nil
}

// AddPool creates (or checks) the block pool dirs of poolID in every volume
// and loads their replicas. A replica still in rbw/ is waiting to be
// recovered (RWR) with the length its checksums vouch for; tmp/ holds
// unfinished transfers and is emptied, as Hadoop does.
func (s *Storage) AddPool(poolID string, namespaceID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pools[poolID]; ok {
		if s.pools[poolID] != namespaceID {
			return fmt.Errorf("block pool %s: namespaceID %d, the NameNode says %d", poolID, s.pools[poolID], namespaceID)
		}
		return nil
	}
	reps := map[int64]*replica{}
	for _, v := range s.vols {
		if v.failed {
			continue
		}
		if err := s.loadPool(v, poolID, namespaceID, reps); err != nil {
			if errors.Is(err, ErrIncompatibleCluster) {
				return err
			}
			s.failLocked(v, err)
		}
	}
	s.pools[poolID] = namespaceID
	s.replicas[poolID] = reps
	return nil
}

func (s *Storage) loadPool(v *volume, pool string, nsID int64, reps map[int64]*replica) error {
	for _, d := range []string{filepath.Join(v.poolDir(pool), "current", "finalized"), v.rbwDir(pool), v.tmpDir(pool)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	vf := filepath.Join(v.poolDir(pool), "current", "VERSION")
	props, err := readProps(vf)
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = writeProps(vf, map[string]string{
			"namespaceID": strconv.FormatInt(nsID, 10), "cTime": "0",
			"blockpoolID": pool, "layoutVersion": strconv.Itoa(LayoutVersion),
		})
		if err != nil {
			return err
		}
	case err != nil:
		return err
	case props["namespaceID"] != strconv.FormatInt(nsID, 10):
		return fmt.Errorf("block pool %s in %s has namespaceID %s, the NameNode's is %d: %w", pool, v.root, props["namespaceID"], nsID, ErrIncompatibleCluster)
	}
	entries, err := os.ReadDir(v.tmpDir(pool))
	if err != nil {
		return err
	}
	for _, e := range entries {
		os.Remove(filepath.Join(v.tmpDir(pool), e.Name()))
	}
	add := func(r *replica) {
		size := r.numBytes + metaSize(r)
		if old, ok := reps[r.id]; ok {
			// Two copies of one block: keep the newer stamp, then the
			// finalized, then the longer one, as Hadoop's resolveDuplicateReplicas.
			if old.gs > r.gs || (old.gs == r.gs && (old.state == hdfs.ReplicaFinalized && r.state != hdfs.ReplicaFinalized || old.numBytes >= r.numBytes)) {
				return
			}
			old.vol.used[pool] -= old.numBytes + metaSize(old)
		}
		reps[r.id] = r
		v.used[pool] += size
	}
	err = filepath.WalkDir(filepath.Join(v.poolDir(pool), "current", "finalized"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		id, gs, ok := parseMetaName(d.Name())
		if !ok {
			return nil
		}
		dir := filepath.Dir(p)
		st, err := os.Stat(filepath.Join(dir, "blk_"+strconv.FormatInt(id, 10)))
		if err != nil {
			return nil // a meta without its block is no replica
		}
		add(&replica{pool: pool, id: id, gs: gs, numBytes: st.Size(), state: hdfs.ReplicaFinalized, vol: v, dir: dir})
		return nil
	})
	if err != nil {
		return err
	}
	entries, err = os.ReadDir(v.rbwDir(pool))
	if err != nil {
		return err
	}
	for _, e := range entries {
		id, gs, ok := parseMetaName(e.Name())
		if !ok {
			continue
		}
		r := &replica{pool: pool, id: id, gs: gs, state: hdfs.ReplicaRWR, vol: v, dir: v.rbwDir(pool)}
		n, err := validLength(r.dataPath(), r.metaPath())
		if err != nil {
			continue
		}
		r.numBytes = n
		add(r)
	}
	return nil
}

func metaSize(r *replica) int64 {
	st, err := os.Stat(r.metaPath())
	if err != nil {
		return 0
	}
	return st.Size()
}

// parseMetaName splits "blk_<id>_<gs>.meta".
func parseMetaName(name string) (id, gs int64, ok bool) {
	rest, ok := strings.CutPrefix(name, "blk_")
	if !ok {
		return 0, 0, false
	}
	rest, ok = strings.CutSuffix(rest, ".meta")
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(rest, "_")
	if !ok {
		return 0, 0, false
	}
	id, err1 := strconv.ParseInt(a, 10, 64)
	gs, err2 := strconv.ParseInt(b, 10, 64)
	return id, gs, err1 == nil && err2 == nil
}

// validLength is the length of an unfinished replica that its checksums
// vouch for: the whole chunks the meta covers, the last one verified, as
// Hadoop's validateIntegrityAndSetLength after a restart.
func validLength(dataPath, metaPath string) (int64, error) {
	mf, err := os.Open(metaPath)
	if err != nil {
		return 0, err
	}
	defer mf.Close()
	spec, err := ReadMetaHeader(mf)
	if err != nil {
		return 0, err
	}
	mst, err := mf.Stat()
	if err != nil {
		return 0, err
	}
	df, err := os.Open(dataPath)
	if err != nil {
		return 0, err
	}
	defer df.Close()
	dst, err := df.Stat()
	if err != nil {
		return 0, err
	}
	if spec.Size() == 0 {
		return dst.Size(), nil
	}
	chunks := (mst.Size() - MetaHeaderLen) / int64(spec.Size())
	n := min(dst.Size(), chunks*int64(spec.BytesPerChecksum))
	for n > 0 {
		last := (n - 1) / int64(spec.BytesPerChecksum)
		start := last * int64(spec.BytesPerChecksum)
		buf := make([]byte, n-start)
		if _, err := df.ReadAt(buf, start); err != nil {
			return 0, err
		}
		var sum [4]byte
		if _, err := mf.ReadAt(sum[:], MetaHeaderLen+last*4); err != nil {
			return 0, err
		}
		if binary.BigEndian.Uint32(sum[:]) == spec.Sum(buf) {
			return n, nil
		}
		n = start
	}
	return 0, nil
}

func (s *Storage) failLocked(v *volume, err error) {
	if v.failed {
		return
	}
	v.failed, v.failure = true, err.Error()
	for _, reps := range s.replicas {
		for id, r := range reps {
			if r.vol == v {
				delete(reps, id)
			}
		}
	}
	if cb := s.onVolumeFailure; cb != nil {
		go cb(v.root, err)
	}
}

// Get returns the replica of block id in pool.
func (s *Storage) Get(pool string, id int64) (Replica, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replicas[pool][id]
	if !ok {
		return Replica{}, false
	}
	return view(r), true
}

func view(r *replica) Replica {
	return Replica{Block: r.block(), State: r.state, StorageUUID: r.vol.storageID, DataPath: r.dataPath(), MetaPath: r.metaPath()}
}

// Replicas is the full block report of pool (Hadoop reports temporary
// replicas nowhere; they are not the NameNode's yet).
func (s *Storage) Replicas(pool string) []hdfs.ReplicaReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hdfs.ReplicaReport
	for _, r := range s.replicas[pool] {
		if r.temporary {
			continue
		}
		out = append(out, hdfs.ReplicaReport{Block: r.block(), State: r.state, StorageUUID: r.vol.storageID})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Finalized lists pool's finalized replicas (the scanner's work list).
func (s *Storage) Finalized(pool string) []Replica {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Replica
	for _, r := range s.replicas[pool] {
		if r.state == hdfs.ReplicaFinalized {
			out = append(out, view(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Pools lists the loaded block pools.
func (s *Storage) Pools() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p := range s.pools {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Reports are the volumes' figures for a heartbeat of pool.
func (s *Storage) Reports(pool string) []hdfs.StorageReport {
	s.mu.Lock()
	vols := append([]*volume(nil), s.vols...)
	type fig struct {
		id       string
		failed   bool
		used, bp int64
	}
	figs := make([]fig, len(vols))
	for i, v := range vols {
		figs[i] = fig{id: v.storageID, failed: v.failed, bp: v.used[pool]}
		for _, u := range v.used {
			figs[i].used += u
		}
	}
	s.mu.Unlock()
	var out []hdfs.StorageReport
	for i, v := range vols {
		f := figs[i]
		if f.id == "" {
			continue
		}
		rep := hdfs.StorageReport{StorageUUID: f.id, Failed: f.failed, DFSUsed: f.used, BlockPoolUsed: f.bp}
		if !f.failed {
			capacity, avail := diskSpace(v.root)
			rep.Capacity = max(capacity-s.reserved, 0)
			rep.Remaining = max(min(avail-s.reserved, rep.Capacity-f.used), 0)
		}
		out = append(out, rep)
	}
	return out
}

func diskSpace(dir string) (capacity, avail int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0
	}
	return int64(st.Blocks) * int64(st.Bsize), int64(st.Bavail) * int64(st.Bsize)
}

// chooseVolumeLocked picks the next working volume round-robin that has room
// for size bytes (Hadoop's RoundRobinVolumeChoosingPolicy).
func (s *Storage) chooseVolumeLocked(size int64) (*volume, error) {
	n := len(s.vols)
	var best int64
	for i := 0; i < n; i++ {
		v := s.vols[(s.next+i)%n]
		if v.failed || v.storageID == "" {
			continue
		}
		_, avail := diskSpace(v.root)
		avail -= s.reserved
		if avail >= size {
			s.next = (s.next + i + 1) % n
			return v, nil
		}
		best = max(best, avail)
	}
	return nil, fmt.Errorf("out of space: no volume has %d bytes free (most available %d) (DiskOutOfSpaceException)", size, best)
}

// CreateRBW starts a replica a client writes (PIPELINE_SETUP_CREATE), or a
// temporary one another DataNode transfers when temporary is set.
func (s *Storage) CreateRBW(b hdfs.ExtendedBlock, spec ChecksumSpec, expected int64, temporary bool) (*ReplicaWriter, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reps, ok := s.replicas[b.PoolID]
	if !ok {
		return nil, fmt.Errorf("block pool %s is not served here", b.PoolID)
	}
	if old, ok := reps[b.ID]; ok {
		if !temporary || old.state == hdfs.ReplicaFinalized || old.gs >= b.GenStamp {
			return nil, fmt.Errorf("block %s: %w in state %s", b, ErrReplicaExists, old.state)
		}
		// A stale unfinished copy gives way to a newer transfer.
		s.removeLocked(old)
	}
	for {
		v, err := s.chooseVolumeLocked(expected)
		if err != nil {
			return nil, err
		}
		r := &replica{pool: b.PoolID, id: b.ID, gs: b.GenStamp, state: hdfs.ReplicaRBW, vol: v, temporary: temporary}
		if temporary {
			r.state, r.dir = hdfs.ReplicaTemporary, v.tmpDir(b.PoolID)
		} else {
			r.dir = v.rbwDir(b.PoolID)
		}
		w, err := newWriter(r, spec, true)
		if err != nil {
			s.failLocked(v, err)
			continue
		}
		reps[b.ID] = r
		r.writer = w
		w.s = s
		return w, nil
	}
}

// ReopenRBW continues a replica for an append or a pipeline recovery: the
// replica moves (or stays) in rbw/ under newGS and its writer starts at its
// current length. An append takes a finalized replica of b's stamp;
// streaming recovery an unfinished one of a stamp in [b's, newGS], cut to
// the length its checksums vouch for (Hadoop's append and recoverRbw).
func (s *Storage) ReopenRBW(b hdfs.ExtendedBlock, newGS int64, appendFinalized bool) (*ReplicaWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replicas[b.PoolID][b.ID]
	if !ok {
		return nil, fmt.Errorf("block %s: %w", b, ErrReplicaNotFound)
	}
	if appendFinalized {
		// Hadoop's client names the old stamp in the block and the new one
		// as the latest; a client given the block by an append that already
		// bumped it (colinmarc/hdfs) names the new one in both.
		if r.state != hdfs.ReplicaFinalized || r.gs > newGS || (r.gs != b.GenStamp && b.GenStamp != newGS) {
			return nil, fmt.Errorf("append to %s: replica is %s with stamp %d", b, r.state, r.gs)
		}
	} else {
		if r.state != hdfs.ReplicaRBW && r.state != hdfs.ReplicaRWR || r.gs < b.GenStamp || r.gs > newGS {
			return nil, fmt.Errorf("recover %s: replica is %s with stamp %d", b, r.state, r.gs)
		}
	}
	if r.writer != nil {
		r.numBytes = r.writer.Length()
		r.writer.interrupt()
		r.writer.close()
		r.writer = nil
	}
	oldData, oldMeta := r.dataPath(), r.metaPath()
	r.dir, r.gs, r.state = r.vol.rbwDir(b.PoolID), newGS, hdfs.ReplicaRBW
	if err := os.Rename(oldData, r.dataPath()); err != nil {
		return nil, err
	}
	if err := os.Rename(oldMeta, r.metaPath()); err != nil {
		return nil, err
	}
	if err := syncDir(r.dir); err != nil {
		return nil, err
	}
	w, err := newWriter(r, ChecksumSpec{}, false)
	if err != nil {
		return nil, err
	}
	if w.length > r.numBytes && !appendFinalized {
		// Bytes beyond what was validated are not vouched for.
		if err := w.truncate(r.numBytes); err != nil {
			w.close()
			return nil, err
		}
	}
	r.writer, w.s = w, s
	return w, nil
}

// CloseRecovery bumps a finalized or RBW replica to newGS and finalizes it
// (PIPELINE_CLOSE_RECOVERY).
func (s *Storage) CloseRecovery(b hdfs.ExtendedBlock, newGS int64) error {
	s.mu.Lock()
	r, ok := s.replicas[b.PoolID][b.ID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("block %s: %w", b, ErrReplicaNotFound)
	}
	if r.state == hdfs.ReplicaFinalized {
		defer s.mu.Unlock()
		if r.gs < b.GenStamp || r.gs > newGS {
			return fmt.Errorf("close recovery of %s: replica stamp %d", b, r.gs)
		}
		old := r.metaPath()
		r.gs = newGS
		if err := os.Rename(old, r.metaPath()); err != nil {
			return err
		}
		return syncDir(r.dir)
	}
	s.mu.Unlock()
	w, err := s.ReopenRBW(b, newGS, false)
	if err != nil {
		return err
	}
	return w.Finalize()
}

// Invalidate deletes the replica of b, only of b's stamp: INVALIDATE.
func (s *Storage) Invalidate(b hdfs.ExtendedBlock) (storageUUID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replicas[b.PoolID][b.ID]
	if !ok {
		return "", fmt.Errorf("block %s: %w", b, ErrReplicaNotFound)
	}
	if r.gs != b.GenStamp {
		// A NameNode that has not seen the newer stamp must not delete the
		// newer replica (Hadoop's invalidate refuses the same way).
		return r.vol.storageID, fmt.Errorf("invalidate %s: the replica has stamp %d", b, r.gs)
	}
	if r.writer != nil {
		r.writer.interrupt()
	}
	id := r.vol.storageID
	if err := s.removeLocked(r); err != nil {
		return id, err
	}
	return id, nil
}

func (s *Storage) removeLocked(r *replica) error {
	size := r.numBytes + metaSize(r)
	delete(s.replicas[r.pool], r.id)
	e1 := os.Remove(r.dataPath())
	e2 := os.Remove(r.metaPath())
	r.vol.used[r.pool] -= size
	if e1 != nil && !errors.Is(e1, os.ErrNotExist) {
		return e1
	}
	if e2 != nil && !errors.Is(e2, os.ErrNotExist) {
		return e2
	}
	return nil
}

// abortWriter forgets w as its replica's writer; remove deletes the replica.
func (s *Storage) abortWriter(w *ReplicaWriter, remove bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := w.r
	if r.writer == w {
		r.writer = nil
		r.numBytes = w.Length()
	}
	if remove && s.replicas[r.pool][r.id] == r {
		s.removeLocked(r)
	}
}

func (s *Storage) finalizeLocked(w *ReplicaWriter) error {
	r := w.r
	if s.replicas[r.pool][r.id] != r || r.writer != w {
		return fmt.Errorf("block %s: the replica was replaced or is under recovery", r.block())
	}
	oldDir := r.dir
	oldData, oldMeta := r.dataPath(), r.metaPath()
	dir := r.vol.finalizedDir(r.pool, r.id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	r.dir = dir
	if err := os.Rename(oldData, r.dataPath()); err != nil {
		r.dir = oldDir
		return err
	}
	if err := os.Rename(oldMeta, r.metaPath()); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := syncDir(oldDir); err != nil {
		return err
	}
	r.state, r.temporary, r.writer = hdfs.ReplicaFinalized, false, nil
	r.numBytes = w.length
	r.vol.used[r.pool] += w.length + MetaHeaderLen + w.spec.Chunks(w.length)*int64(w.spec.Size()) - w.counted
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ReplicaWriter writes one replica's data and meta files. Writes need not be
// chunk aligned: the checksums of every chunk a write touches are computed
// again from the bytes on disk, so a resent partial chunk (after hflush) or
// an append that completes the last chunk leaves one checksum per chunk.
type ReplicaWriter struct {
	s          *Storage
	r          *replica
	data, meta *os.File
	spec       ChecksumSpec
	length     int64
	counted    int64 // bytes already in the volume's usage
	sums       []byte
	// acked, when tracked, is the bytes every DataNode downstream has
	// acknowledged: what a reader may see (Hadoop's bytesAcked).
	acked      int64
	trackAcked bool
	// syncedTo: the writeback of data bytes before it has been started
	// (sync behind writes).
	syncedTo int64
	// droppedTo: the page cache of data bytes before it was dropped.
	droppedTo int64
	// behind runs the writeback and drop calls; behindBusy: one is running.
	behind     sync.WaitGroup
	behindBusy bool
	mu         sync.Mutex
	stopped    bool
}

func newWriter(r *replica, spec ChecksumSpec, create bool) (*ReplicaWriter, error) {
	w := &ReplicaWriter{r: r, spec: spec}
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE | os.O_EXCL
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			return nil, err
		}
	}
	var err error
	if w.data, err = os.OpenFile(r.dataPath(), flags, 0o600); err != nil {
		return nil, err
	}
	if w.meta, err = os.OpenFile(r.metaPath(), flags, 0o600); err != nil {
		w.data.Close()
		if create {
			os.Remove(r.dataPath())
		}
		return nil, err
	}
	if create {
		if _, err := w.meta.Write(EncodeMetaHeader(spec)); err != nil {
			w.close()
			return nil, err
		}
		return w, nil
	}
	if w.spec, err = ReadMetaHeader(w.meta); err != nil {
		w.close()
		return nil, err
	}
	st, err := w.data.Stat()
	if err != nil {
		w.close()
		return nil, err
	}
	w.length = st.Size()
	w.syncedTo = w.length
	w.droppedTo = w.length
	w.counted = r.numBytes + metaSize(r)
	return w, nil
}

// TrackAcked makes the visible length the acknowledged bytes (SetAcked)
// instead of the bytes on disk: a client's pipeline.
func (w *ReplicaWriter) TrackAcked() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trackAcked, w.acked = true, w.length
}

// SetAcked records that the pipeline acknowledged the first n bytes.
func (w *ReplicaWriter) SetAcked(n int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acked = max(w.acked, min(n, w.length))
}

// Visible is the length a reader may see.
func (w *ReplicaWriter) Visible() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.trackAcked {
		return w.acked
	}
	return w.length
}

// Spec is the replica's checksum.
func (w *ReplicaWriter) Spec() ChecksumSpec { return w.spec }

// Length is the bytes on disk.
func (w *ReplicaWriter) Length() int64 { w.mu.Lock(); defer w.mu.Unlock(); return w.length }

// Block is the replica being written.
func (w *ReplicaWriter) Block() hdfs.ExtendedBlock {
	return hdfs.ExtendedBlock{PoolID: w.r.pool, Block: hdfs.Block{ID: w.r.id, GenStamp: w.r.gs, NumBytes: w.Length()}}
}

// StorageUUID is the volume's storage ID.
func (w *ReplicaWriter) StorageUUID() string { return w.r.vol.storageID }

var errInterrupted = errors.New("replica writer interrupted (the replica is under recovery or deleted)")

func (w *ReplicaWriter) interrupt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}

// Write stores data at block offset off (not beyond the current length).
func (w *ReplicaWriter) Write(off int64, data []byte) error {
	return w.WriteVerified(off, data, nil)
}

// WriteVerified is Write of data whose chunk checksums sums (one per chunk
// of data from off, the receiver's packet) were just verified against it:
// when off is a chunk boundary they are the meta file's bytes as they are,
// and the CRCs are not computed a second time. Otherwise (nil, or a write
// completing a partial chunk) the touched chunks' CRCs are recomputed.
func (w *ReplicaWriter) WriteVerified(off int64, data, sums []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return errInterrupted
	}
	if off > w.length || off < 0 {
		return fmt.Errorf("write at offset %d of a replica of %d bytes", off, w.length)
	}
	bpc := int64(w.spec.BytesPerChecksum)
	chunkStart := off / bpc * bpc
	if off != chunkStart || int64(len(sums)) != w.spec.Chunks(int64(len(data)))*int64(w.spec.Size()) {
		sums = nil
	}
	covered := data
	if sums != nil {
		covered = nil
	} else if off > chunkStart {
		// The first chunk began before this write: its checksum covers
		// the bytes already on disk too.
		covered = make([]byte, off-chunkStart, off-chunkStart+int64(len(data)))
		if _, err := w.data.ReadAt(covered, chunkStart); err != nil {
			return fmt.Errorf("read partial chunk: %w", err)
		}
		covered = append(covered, data...)
	}
	if _, err := w.data.WriteAt(data, off); err != nil {
		return err
	}
	if w.s != nil && w.s.syncBehind.Load() {
		w.syncBehindLocked(off + int64(len(data)))
	}
	if sums == nil {
		w.sums = w.spec.AppendSums(w.sums[:0], covered)
		sums = w.sums
	}
	if _, err := w.meta.WriteAt(sums, MetaHeaderLen+chunkStart/bpc*int64(w.spec.Size())); err != nil {
		return err
	}
	end := off + int64(len(data))
	if end < w.length {
		return w.truncateLocked(end)
	}
	w.length = end
	return nil
}

func (w *ReplicaWriter) truncate(n int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.truncateLocked(n)
}

// truncateLocked cuts the replica to n bytes, recomputing the checksum of
// a last chunk made partial.
func (w *ReplicaWriter) truncateLocked(n int64) error {
	if err := w.data.Truncate(n); err != nil {
		return err
	}
	bpc := int64(w.spec.BytesPerChecksum)
	chunks := w.spec.Chunks(n)
	if err := w.meta.Truncate(MetaHeaderLen + chunks*int64(w.spec.Size())); err != nil {
		return err
	}
	if rem := n % bpc; rem != 0 && w.spec.Size() > 0 {
		buf := make([]byte, rem)
		if _, err := w.data.ReadAt(buf, n-rem); err != nil {
			return err
		}
		if _, err := w.meta.WriteAt(w.spec.AppendSums(nil, buf), MetaHeaderLen+(chunks-1)*4); err != nil {
			return err
		}
	}
	w.length = n
	return nil
}

// syncBehindBytes is how far behind the last byte written a writer starts
// the writeback (Hadoop's CACHE_DROP_LAG_BYTES, 8 MiB).
const syncBehindBytes = 8 << 20

// SetSyncBehindWrites turns on Hadoop's dfs.datanode.sync.behind.writes:
// every 8 MiB a writer asks the kernel to start writing the bytes back
// (sync_file_range SYNC_FILE_RANGE_WRITE, which does not wait), so the
// disk works while the block streams in and the fsync that finalizes it
// has little left to wait for.
func (s *Storage) SetSyncBehindWrites(on bool) {
	s.syncBehind.Store(on)
}

// SetDropCacheBehindWrites turns on Hadoop's
// dfs.datanode.drop.cache.behind.writes: with sync behind writes, the
// pages of a replica being written that are 8 MiB or more behind the last
// writeback started are dropped from the page cache (posix_fadvise
// DONTNEED; pages still dirty or being written stay), so a stream of
// blocks reuses the same memory instead of filling the cache with data
// that is already on disk.
func (s *Storage) SetDropCacheBehindWrites(on bool) {
	s.dropBehind.Store(on)
}

// syncBehindLocked starts the writeback of [syncedTo, end) once it spans
// syncBehindBytes. Best effort: an error here shows at the fsync.
func (w *ReplicaWriter) syncBehindLocked(end int64) {
	if end < w.syncedTo {
		w.syncedTo = end // rewritten from an earlier offset (recovery)
		w.droppedTo = min(w.droppedTo, end)
	}
	if end-w.syncedTo < syncBehindBytes || w.behindBusy {
		// Too little yet, or the previous call still runs: the next one
		// covers this range too.
		return
	}
	from, dropFrom, dropTo := w.syncedTo, w.droppedTo, w.syncedTo-syncBehindBytes
	drop := w.s.dropBehind.Load() && dropTo > dropFrom
	if drop {
		w.droppedTo = dropTo
	}
	w.syncedTo = end
	// In the background (Hadoop's sync.behind.writes.in.background):
	// sync_file_range blocks while the disk's queue is full, and the
	// packets must keep flowing meanwhile.
	w.behindBusy = true
	w.behind.Add(1)
	go func() {
		defer w.behind.Done()
		_ = startWriteback(w.data, from, end-from)
		if drop {
			_ = dropCache(w.data, dropFrom, dropTo-dropFrom)
		}
		w.mu.Lock()
		w.behindBusy = false
		w.mu.Unlock()
	}()
}

// Sync flushes data and meta to disk (hsync).
func (w *ReplicaWriter) Sync() error {
	if err := w.data.Sync(); err != nil {
		return err
	}
	return w.meta.Sync()
}

// Finalize fsyncs the files and moves the replica to finalized/: only then
// is it reported RECEIVED or acknowledged as closed.
func (w *ReplicaWriter) Finalize() error {
	w.mu.Lock()
	stopped := w.stopped
	w.mu.Unlock()
	if stopped {
		w.close()
		return errInterrupted
	}
	if err := w.Sync(); err != nil {
		w.close()
		w.s.diskError(w.r.vol, err)
		return err
	}
	w.close()
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.finalizeLocked(w)
}

// Abort stops writing; remove deletes the replica too (a transfer that did
// not complete). An RBW replica a client stopped writing stays for recovery.
func (w *ReplicaWriter) Abort(remove bool) {
	w.close()
	w.s.abortWriter(w, remove)
}

func (w *ReplicaWriter) close() {
	w.behind.Wait()
	w.data.Close()
	w.meta.Close()
}

func (s *Storage) diskError(v *volume, err error) {
	if errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EROFS) {
		s.mu.Lock()
		s.failLocked(v, err)
		s.mu.Unlock()
	}
}

// ReplicaReader reads a replica's data with its checksums.
type ReplicaReader struct {
	Replica
	Spec       ChecksumSpec
	data, meta *os.File
	// w is the replica's writer when it was being written: reads hold its
	// lock so a chunk is never seen with new data and its old checksum.
	w    *ReplicaWriter
	sums []byte // ReadChunks' answer, reused
	// readahead, when > 0, is how far ahead of the reads the kernel is
	// asked to read the data file, never past raStop (raEnd: where the
	// requests reach now).
	readahead, raEnd, raStop int64
}

// longRead is the smallest read that gets readahead (Hadoop's
// BlockSender.LONG_READ_THRESHOLD_BYTES): a short random read would only
// make the disk read what nobody asked for.
const longRead = 256 << 10

// SetReadahead prepares a sequential read of [off, end): when it is long,
// its reads ask the kernel, in steps of n bytes, to read the data file
// ahead of them up to end (Hadoop's dfs.datanode.readahead.bytes,
// posix_fadvise WILLNEED), so the disk is kept busy while the bytes
// already read are sent.
func (rr *ReplicaReader) SetReadahead(n, off, end int64) {
	if n <= 0 || end-off <= longRead {
		return
	}
	rr.readahead, rr.raEnd, rr.raStop = n, off, end
}

// VisibleLength is the length of b's replica a reader may see, as Hadoop's
// getReplicaVisibleLength answers it: the acknowledged bytes of a replica
// being written (its bytes on disk when no pipeline acknowledges them), the
// length of a finalized one or of one under recovery, -1 for one waiting to
// be recovered. A replica older than b's stamp is an error: it does not
// hold what the reader was told the block holds.
func (s *Storage) VisibleLength(b hdfs.ExtendedBlock) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replicas[b.PoolID][b.ID]
	if !ok || r.temporary {
		return 0, fmt.Errorf("block %s: %w", b, ErrReplicaNotFound)
	}
	if r.gs < b.GenStamp {
		return 0, fmt.Errorf("replica generation stamp %d < block generation stamp %d, block=%s", r.gs, b.GenStamp, b)
	}
	switch {
	case r.writer != nil:
		return r.writer.Visible(), nil
	case r.state == hdfs.ReplicaRWR, r.state == hdfs.ReplicaRUR && r.origState == hdfs.ReplicaRWR:
		return -1, nil
	}
	return r.numBytes, nil
}

// OpenRead opens the replica of b for reading: a finalized one of b's stamp
// or a newer one, or one being written (reads up to its bytes on disk).
func (s *Storage) OpenRead(b hdfs.ExtendedBlock) (*ReplicaReader, error) {
	s.mu.Lock()
	r, ok := s.replicas[b.PoolID][b.ID]
	if !ok || r.temporary {
		s.mu.Unlock()
		return nil, fmt.Errorf("block %s: %w", b, ErrReplicaNotFound)
	}
	if r.gs < b.GenStamp {
		s.mu.Unlock()
		return nil, fmt.Errorf("block %s: replica has the older stamp %d: %w", b, r.gs, ErrReplicaNotFound)
	}
	v := view(r)
	if r.writer != nil {
		v.NumBytes = r.writer.Visible()
	}
	w := r.writer
	s.mu.Unlock()
	rr := &ReplicaReader{Replica: v, w: w}
	var err error
	if rr.data, err = os.Open(v.DataPath); err != nil {
		return nil, err
	}
	if rr.meta, err = os.Open(v.MetaPath); err != nil {
		rr.data.Close()
		return nil, err
	}
	if rr.Spec, err = ReadMetaHeader(rr.meta); err != nil {
		rr.Close()
		return nil, err
	}
	return rr, nil
}

// ReadChunks reads data bytes [off, off+n) — off a chunk boundary — and
// their checksums, and verifies them. The sums returned are valid until
// the next call. For a replica being written, the
// last chunk may have grown since the reader took its length: it is
// verified whole, as the writer's lock shows it, and its checksum in the
// answer is computed over the bytes returned.
func (rr *ReplicaReader) ReadChunks(off int64, data []byte) (sums []byte, err error) {
	bpc := int64(rr.Spec.BytesPerChecksum)
	if off%bpc != 0 {
		return nil, fmt.Errorf("read at %d: not a chunk boundary", off)
	}
	buf := data
	if rr.w != nil {
		rr.w.mu.Lock()
		defer rr.w.mu.Unlock()
		end := off + int64(len(data))
		if tail := end % bpc; tail != 0 && rr.w.length > end {
			buf = make([]byte, min(end-tail+bpc, rr.w.length)-off)
		}
	}
	if rr.readahead > 0 && rr.raEnd < rr.raStop && off+int64(len(buf))+rr.readahead/2 >= rr.raEnd {
		from := max(rr.raEnd, off)
		rr.raEnd = min(from+rr.readahead, rr.raStop)
		_ = readAhead(rr.data, from, rr.raEnd-from)
	}
	if _, err := rr.data.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("read block %s at %d: %w", rr.Block, off, err)
	}
	// The answer's sums live until the next call: one buffer serves them.
	need := int(rr.Spec.Chunks(int64(len(buf))) * int64(rr.Spec.Size()))
	if cap(rr.sums) < need {
		rr.sums = make([]byte, need)
	}
	sums = rr.sums[:need]
	if len(sums) > 0 {
		if _, err := rr.meta.ReadAt(sums, MetaHeaderLen+off/bpc*int64(rr.Spec.Size())); err != nil {
			return nil, fmt.Errorf("read meta of %s at %d: %w", rr.Block, off, err)
		}
	}
	if err := rr.Spec.Verify(off, buf, sums); err != nil {
		return nil, err
	}
	if len(buf) != len(data) {
		copy(data, buf)
		last := (int64(len(data)) - 1) / bpc
		sums = sums[:(last+1)*int64(rr.Spec.Size())]
		if rr.Spec.Size() > 0 {
			binary.BigEndian.PutUint32(sums[last*4:], rr.Spec.Sum(data[last*bpc:]))
		}
	}
	return sums, nil
}

// AllSums reads every checksum of the first n bytes (BLOCK_CHECKSUM).
func (rr *ReplicaReader) AllSums(n int64) ([]byte, error) {
	sums := make([]byte, rr.Spec.Chunks(n)*int64(rr.Spec.Size()))
	if _, err := rr.meta.ReadAt(sums, MetaHeaderLen); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return sums, nil
}

// Close closes the files.
func (rr *ReplicaReader) Close() error {
	rr.data.Close()
	return rr.meta.Close()
}

// VERSION files: Java properties, "#" comment with the date, key=value.
func readProps(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return props, nil
}

func writeProps(path string, props map[string]string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("#" + time.Now().UTC().Format(time.UnixDate) + "\n")
	for _, k := range keys {
		b.WriteString(k + "=" + props[k] + "\n")
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
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
	return syncDir(filepath.Dir(path))
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// TemporaryToRBW makes a replica another DataNode transferred for a
// client's pipeline recovery (TRANSFER_RBW) a replica being written, which
// the client's rebuilt pipeline then continues (Hadoop's convertTemporaryToRbw).
func (s *Storage) TemporaryToRBW(w *ReplicaWriter) error {
	if err := w.Sync(); err != nil {
		w.close()
		return err
	}
	w.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := w.r
	if s.replicas[r.pool][r.id] != r || r.writer != w {
		return fmt.Errorf("block %s: the replica was replaced", r.block())
	}
	oldDir, oldData, oldMeta := r.dir, r.dataPath(), r.metaPath()
	r.dir = r.vol.rbwDir(r.pool)
	if err := os.Rename(oldData, r.dataPath()); err != nil {
		r.dir = oldDir
		return err
	}
	if err := os.Rename(oldMeta, r.metaPath()); err != nil {
		return err
	}
	if err := syncDir(r.dir); err != nil {
		return err
	}
	syncDir(oldDir)
	r.state, r.temporary, r.writer, r.numBytes = hdfs.ReplicaRBW, false, nil, w.length
	r.vol.used[r.pool] += w.length + MetaHeaderLen + w.spec.Chunks(w.length)*int64(w.spec.Size()) - w.counted
	return nil
}

// RecoveryInfo is a replica as initReplicaRecovery found it (Hadoop's
// ReplicaRecoveryInfo): its stamp, length and state before recovery.
type RecoveryInfo struct {
	hdfs.Block
	State hdfs.ReplicaState `json:"state"`
}

// ErrRecoveryInProgress: a recovery with a newer id already holds the replica.
var ErrRecoveryInProgress = errors.New("RecoveryInProgressException")

// InitReplicaRecovery stops any writer of b's replica and puts it under
// recovery recoveryID (Hadoop's FsDatasetImpl.initReplicaRecovery).
func (s *Storage) InitReplicaRecovery(b hdfs.ExtendedBlock, recoveryID int64) (RecoveryInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replicas[b.PoolID][b.ID]
	if !ok || r.temporary {
		return RecoveryInfo{}, fmt.Errorf("block %s: %w", b, ErrReplicaNotFound)
	}
	if r.gs < b.GenStamp {
		return RecoveryInfo{}, fmt.Errorf("replica of %s has the older stamp %d", b, r.gs)
	}
	if r.gs >= recoveryID {
		return RecoveryInfo{}, fmt.Errorf("replica of %s has stamp %d, not below the recovery id %d", b, r.gs, recoveryID)
	}
	if r.writer != nil {
		r.numBytes = r.writer.Length()
		r.writer.interrupt()
		r.writer.close()
		r.writer = nil
	}
	orig := r.state
	if r.state == hdfs.ReplicaRUR {
		if r.recoveryID >= recoveryID {
			return RecoveryInfo{}, fmt.Errorf("%w: %s is under recovery %d, not older than %d", ErrRecoveryInProgress, b, r.recoveryID, recoveryID)
		}
		orig = r.origState
	} else {
		r.origState = r.state
	}
	r.state, r.recoveryID = hdfs.ReplicaRUR, recoveryID
	return RecoveryInfo{Block: r.block(), State: orig}, nil
}

// UpdateReplicaUnderRecovery cuts the replica under recovery recoveryID to
// newLength, gives it stamp recoveryID and finalizes it (Hadoop's
// updateReplicaUnderRecovery). It returns the replica's storage.
func (s *Storage) UpdateReplicaUnderRecovery(b hdfs.ExtendedBlock, recoveryID, newLength int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replicas[b.PoolID][b.ID]
	if !ok {
		return "", fmt.Errorf("block %s: %w", b, ErrReplicaNotFound)
	}
	if r.state != hdfs.ReplicaRUR || r.recoveryID != recoveryID {
		return "", fmt.Errorf("replica of %s is %s under recovery %d, not %d", b, r.state, r.recoveryID, recoveryID)
	}
	if newLength > r.numBytes || newLength < 0 {
		return "", fmt.Errorf("replica of %s has %d bytes, cannot recover to %d", b, r.numBytes, newLength)
	}
	w, err := newWriter(r, ChecksumSpec{}, false)
	if err != nil {
		return "", err
	}
	w.s = s
	if w.length != newLength {
		if err := w.truncate(newLength); err != nil {
			w.close()
			return "", err
		}
	}
	if err := w.Sync(); err != nil {
		w.close()
		return "", err
	}
	w.close()
	oldMeta := r.metaPath()
	r.gs = recoveryID
	if err := os.Rename(oldMeta, r.metaPath()); err != nil {
		return "", err
	}
	r.writer = w
	if err := s.finalizeLocked(w); err != nil {
		return "", err
	}
	return r.vol.storageID, nil
}
