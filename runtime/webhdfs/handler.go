package webhdfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// PathPrefix is where WebHDFS lives on a NameNode's HTTP server; mount the
// handler on PathPrefix+"/".
const PathPrefix = "/webhdfs/v1"

// dataParam marks the second step of CREATE, APPEND and OPEN. Hadoop's
// NameNode redirects to a DataNode; hactl's NameNode keeps the bytes itself,
// so it redirects to itself and this marker says "the data is here now".
const dataParam = "datanode"

// HandlerOptions tunes the WebHDFS handler; zero values take Hadoop's defaults.
type HandlerOptions struct {
	DefaultUser        string // user.name when none is given; Hadoop's dr.who
	DefaultReplication int16  // dfs.replication; 3
	DefaultBlockSize   int64  // dfs.blocksize; 128 MiB
	MaxDataBytes       int64  // largest CREATE/APPEND body; 64 MiB
	MaxDataKey         string // the configuration key that sets MaxDataBytes, named in the refusal
	ListLimit          int    // dfs.ls.limit: entries per LISTSTATUS_BATCH answer; 1000
	TrashInterval      int64  // fs.trash.interval in minutes, told by GETSERVERDEFAULTS; 0 (trash off)
	// Logf, when set, receives the internal errors (no sentinel matched).
	Logf func(format string, args ...any)
	// DataNode, when set, chooses the DataNode the first step of a
	// CREATE, APPEND or OPEN is redirected to, as Hadoop's
	// NamenodeWebHdfsMethods.chooseDatanode: its HTTP address (host:port),
	// or "" to serve the data step here (files stored inline). clientHost
	// is the caller's address, offset OPEN's; exclude the DataNodes the
	// client names in excludedatanodes (host:port or host), never to be
	// chosen.
	DataNode func(ctx context.Context, op, path string, offset int64, user, clientHost string, exclude []string) (string, error)
	// NamenodeRPCAddress is what a redirect to a DataNode names in
	// namenoderpcaddress (the nameservice, for an HA cluster).
	NamenodeRPCAddress string
	// BlockLocations, when set, answers GETFILEBLOCKLOCATIONS (the
	// NameNode's getBlockLocations); unset, a file has no blocks (inline).
	BlockLocations func(ctx context.Context, path string, offset, length int64, user string) ([]BlockLocation, error)
}

type handler struct {
	ns   Namesystem
	opts HandlerOptions
}

// Handler serves the WebHDFS REST API (/webhdfs/v1/<path>?op=…) over ns, with
// Hadoop's JSON shapes, two-step CREATE/APPEND/OPEN and RemoteException errors.
func Handler(ns Namesystem, opts HandlerOptions) http.Handler {
	if opts.DefaultUser == "" {
		opts.DefaultUser = "dr.who"
	}
	if opts.DefaultReplication <= 0 {
		opts.DefaultReplication = 3
	}
	if opts.DefaultBlockSize <= 0 {
		opts.DefaultBlockSize = 128 << 20
	}
	if opts.MaxDataBytes <= 0 {
		opts.MaxDataBytes = 64 << 20
	}
	if opts.ListLimit <= 0 {
		opts.ListLimit = 1000
	}
	return &handler{ns: ns, opts: opts}
}

// errUnsupported is Hadoop's UnsupportedOperationException (400).
var errUnsupported = errors.New("UnsupportedOperationException")

// errIllegalArgument is a bad request parameter (IllegalArgumentException, 400).
var errIllegalArgument = errors.New("IllegalArgumentException")

func badParam(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errIllegalArgument, fmt.Sprintf(format, args...))
}

// IllegalArgumentError is Hadoop's IllegalArgumentException (400) with the
// formatted message, for a Namesystem refusing an argument (a TRUNCATE past
// the end of the file).
func IllegalArgumentError(format string, args ...any) error { return badParam(format, args...) }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || (p != "" && p[0] != '/') {
		writeError(w, fmt.Errorf("%w: %s is not under %s", ErrNotFound, r.URL.Path, PathPrefix), h.opts.Logf)
		return
	}
	path, err := cleanPath(p)
	if err != nil {
		writeError(w, err, h.opts.Logf)
		return
	}
	q := parseQuery(r.URL.RawQuery)
	defer q.release()
	op := upperASCII(q.Get("op"))
	if op == "" {
		writeError(w, badParam("Invalid value for webhdfs parameter \"op\": op is missing"), h.opts.Logf)
		return
	}
	if err := h.serve(w, r, op, path, q); err != nil {
		writeError(w, err, h.opts.Logf)
	}
}

// cleanPath checks a WebHDFS path the way HDFS's DFSUtil.isValidName does:
// absolute, no "." or ".." or ":" components, no empty component.
func cleanPath(p string) (string, error) {
	if p == "" || p == "/" {
		return "/", nil
	}
	trimmed := strings.TrimSuffix(p, "/")
	for rest := trimmed[1:]; ; {
		c, more, found := strings.Cut(rest, "/")
		if c == "" || c == "." || c == ".." || strings.IndexByte(c, ':') >= 0 {
			return "", fmt.Errorf("%w: Invalid file name: %s", ErrInvalidPath, p)
		}
		if !found {
			return trimmed, nil
		}
		rest = more
	}
}

// upperASCII is strings.ToUpper without allocating when s is upper case
// already (the usual op=GETFILESTATUS).
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' || c >= 0x80 {
			return strings.ToUpper(s)
		}
	}
	return s
}

func (h *handler) user(q *query) string {
	if u := q.Get("user.name"); u != "" {
		return u
	}
	return h.opts.DefaultUser
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, op, path string, q *query) error {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch op {
		case "OPEN":
			return h.open(w, r, path, q)
		case "GETFILESTATUS":
			st, err := h.ns.GetFileStatus(ctx, path, h.user(q))
			if err != nil {
				return err
			}
			st.PathSuffix = ""
			bp := jsonBufs.Get().(*[]byte)
			b := append((*bp)[:0], `{"FileStatus":`...)
			b = appendFileStatus(b, &st)
			b = append(b, "}\n"...)
			writeJSON(w, http.StatusOK, b) // copies b into the connection's buffer
			*bp = b
			jsonBufs.Put(bp)
			return nil
		case "LISTSTATUS":
			list, err := h.ns.ListStatus(ctx, path, h.user(q))
			if err != nil {
				return err
			}
			b := make([]byte, 0, 64+300*len(list))
			b = append(b, `{"FileStatuses":{"FileStatus":[`...)
			for i := range list {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendFileStatus(b, &list[i])
			}
			b = append(b, "]}}\n"...)
			writeJSON(w, http.StatusOK, b)
			return nil
		case "GETCONTENTSUMMARY":
			cs, err := h.ns.GetContentSummary(ctx, path, h.user(q))
			if err != nil {
				return err
			}
			b := make([]byte, 0, 256)
			b = append(b, `{"ContentSummary":`...)
			b = appendContentSummary(b, &cs)
			b = append(b, "}\n"...)
			writeJSON(w, http.StatusOK, b)
			return nil
		case "GETQUOTAUSAGE":
			// Without quotas the usage is the content summary's counts
			// (Hadoop checks it the same way: READ_EXECUTE below).
			cs, err := h.ns.GetContentSummary(ctx, path, h.user(q))
			if err != nil {
				return err
			}
			b := append(make([]byte, 0, 160), `{"QuotaUsage":{"fileAndDirectoryCount":`...)
			b = strconv.AppendInt(b, cs.FileCount+cs.DirectoryCount, 10)
			b = append(b, `,"quota":`...)
			b = strconv.AppendInt(b, cs.Quota, 10)
			b = append(b, `,"spaceConsumed":`...)
			b = strconv.AppendInt(b, cs.SpaceConsumed, 10)
			b = append(b, `,"spaceQuota":`...)
			b = strconv.AppendInt(b, cs.SpaceQuota, 10)
			b = append(b, ",\"typeQuota\":{}}}\n"...)
			writeJSON(w, http.StatusOK, b)
			return nil
		case "LISTSTATUS_BATCH":
			return h.listStatusBatch(w, r, path, q)
		case "GETHOMEDIRECTORY":
			writeJSON(w, http.StatusOK, appendPathJSON(nil, "/user/"+h.user(q)))
			return nil
		case "GETFILECHECKSUM":
			return h.fileChecksum(w, r, path, q)
		case "GETFILEBLOCKLOCATIONS":
			return h.blockLocations(w, r, path, q)
		case "GETTRASHROOT":
			// Hadoop's trash root outside encryption zones (which hactl
			// has none of): the user's home's .Trash, whatever the path.
			writeJSON(w, http.StatusOK, appendPathJSON(nil, "/user/"+h.user(q)+"/.Trash"))
			return nil
		case "GETSERVERDEFAULTS":
			// FsShell's -rm asks for these to learn fs.trash.interval
			// before it moves a file to the trash.
			writeJSON(w, http.StatusOK, h.appendServerDefaults(nil))
			return nil
		}
	case http.MethodPut:
		switch op {
		case "MKDIRS":
			perm, err := permParam(q, 0o755)
			if err != nil {
				return err
			}
			if err := h.ns.Mkdirs(ctx, path, perm, h.user(q)); err != nil {
				return err
			}
			writeBoolean(w, true)
			return nil
		case "CREATE":
			return h.create(w, r, path, q)
		case "RENAME":
			dst := q.Get("destination")
			if dst == "" {
				return badParam("Invalid value for webhdfs parameter \"destination\": destination is missing")
			}
			dst, err := cleanPath(dst)
			if err != nil {
				return err
			}
			ok, err := h.ns.Rename(ctx, path, dst, h.user(q))
			if err != nil {
				return err
			}
			writeBoolean(w, ok)
			return nil
		case "SETPERMISSION":
			perm, err := permParam(q, 0o755)
			if err != nil {
				return err
			}
			if err := h.ns.SetPermission(ctx, path, perm, h.user(q)); err != nil {
				return err
			}
			writeEmpty(w, http.StatusOK)
			return nil
		case "SETREPLICATION":
			// Absent, Hadoop's ReplicationParam is dfs.replication.
			repl := int64(h.opts.DefaultReplication)
			if q.Get("replication") != "" {
				n, err := intParam(q, "replication", 16, math.MinInt16)
				if err != nil {
					return err
				}
				repl = n
			}
			ok, err := h.ns.SetReplication(ctx, path, int16(repl), h.user(q))
			if err != nil {
				return err
			}
			writeBoolean(w, ok)
			return nil
		case "SETTIMES":
			mtime, err := timeParam(q, "modificationtime")
			if err != nil {
				return err
			}
			atime, err := timeParam(q, "accesstime")
			if err != nil {
				return err
			}
			if err := h.ns.SetTimes(ctx, path, mtime, atime, h.user(q)); err != nil {
				return err
			}
			writeEmpty(w, http.StatusOK)
			return nil
		case "CREATESYMLINK":
			if q.Get("destination") == "" {
				return badParam("Required param destination for op: CREATESYMLINK is null or empty")
			}
			// Hadoop's FileSystem keeps symlinks disabled unless
			// FileSystem.enableSymlinks() is called, and its NameNode then
			// refuses them; hactl's namespace has none either.
			return fmt.Errorf("%w: Symlinks not supported", errUnsupported)
		case "SETOWNER":
			owner, group := q.Get("owner"), q.Get("group")
			if owner == "" && group == "" {
				return badParam("Both owner and group are empty")
			}
			if err := h.ns.SetOwner(ctx, path, owner, group, h.user(q)); err != nil {
				return err
			}
			writeEmpty(w, http.StatusOK)
			return nil
		}
	case http.MethodPost:
		switch op {
		case "APPEND":
			return h.appendOp(w, r, path, q)
		case "TRUNCATE":
			if q.Get("newlength") == "" {
				return badParam("Required param newlength for op: TRUNCATE is null or empty")
			}
			n, err := intParam(q, "newlength", 64, 0)
			if err != nil {
				return err
			}
			ok, err := h.ns.Truncate(ctx, path, n, h.user(q))
			if err != nil {
				return err
			}
			writeBoolean(w, ok)
			return nil
		case "CONCAT":
			s := q.Get("sources")
			if s == "" {
				return badParam("Required param sources for op: CONCAT is null or empty")
			}
			var srcs []string
			for _, src := range strings.Split(s, ",") {
				p, err := cleanPath(src)
				if err != nil {
					return err
				}
				srcs = append(srcs, p)
			}
			if err := h.ns.Concat(ctx, path, srcs, h.user(q)); err != nil {
				return err
			}
			writeEmpty(w, http.StatusOK)
			return nil
		}
	case http.MethodDelete:
		if op == "DELETE" {
			recursive, err := boolParam(q, "recursive", false)
			if err != nil {
				return err
			}
			ok, err := h.ns.Delete(ctx, path, recursive, h.user(q))
			if err != nil {
				return err
			}
			writeBoolean(w, ok)
			return nil
		}
	}
	if !knownOps[op] {
		return badParam("Invalid value for webhdfs parameter \"op\": No enum constant %s", op)
	}
	return badParam("Invalid value for webhdfs parameter \"op\": %s is not a valid %s operation.", op, r.Method)
}

var knownOps = map[string]bool{
	"OPEN": true, "GETFILESTATUS": true, "LISTSTATUS": true, "GETCONTENTSUMMARY": true,
	"GETHOMEDIRECTORY": true, "MKDIRS": true, "CREATE": true, "RENAME": true,
	"SETPERMISSION": true, "SETOWNER": true, "APPEND": true, "DELETE": true,
	"LISTSTATUS_BATCH": true, "GETTRASHROOT": true, "GETSERVERDEFAULTS": true,
	"GETQUOTAUSAGE": true, "SETREPLICATION": true, "SETTIMES": true, "CREATESYMLINK": true,
	"TRUNCATE": true, "CONCAT": true, "GETFILECHECKSUM": true, "GETFILEBLOCKLOCATIONS": true,
}

// timeParam is Hadoop's ModificationTimeParam / AccessTimeParam: a long
// of at least -1, absent or -1 meaning "leave it".
func timeParam(q *query, name string) (int64, error) {
	if q.Get(name) == "" {
		return -1, nil
	}
	return intParam(q, name, 64, -1)
}

// listStatusBatch is one page of a directory listing (Hadoop's
// DirectoryListing): at most ListLimit entries named after startAfter, and
// how many remain. A file lists as itself, as LISTSTATUS does.
func (h *handler) listStatusBatch(w http.ResponseWriter, r *http.Request, path string, q *query) error {
	list, err := h.ns.ListStatus(r.Context(), path, h.user(q))
	if err != nil {
		return err
	}
	// The names are sorted bytewise (the Namesystem's order, and HDFS's),
	// so the page starts at the first name past startAfter.
	after := q.Get("startAfter")
	start := 0
	if after != "" {
		start = sort.Search(len(list), func(i int) bool { return list[i].PathSuffix > after })
	}
	end := min(start+h.opts.ListLimit, len(list))
	b := make([]byte, 0, 128+300*(end-start))
	b = append(b, `{"DirectoryListing":{"partialListing":{"FileStatuses":{"FileStatus":[`...)
	for i := start; i < end; i++ {
		if i > start {
			b = append(b, ',')
		}
		b = appendFileStatus(b, &list[i])
	}
	b = append(b, `]}},"remainingEntries":`...)
	b = strconv.AppendInt(b, int64(len(list)-end), 10)
	b = append(b, "}}\n"...)
	writeJSON(w, http.StatusOK, b)
	return nil
}

// appendServerDefaults is Hadoop's FsServerDefaults JSON: the handler's
// replication, block size and trash interval, and HDFS's fixed defaults for
// the rest (512-byte CRC32C checksums, 64 KiB packets, the HOT policy).
func (h *handler) appendServerDefaults(b []byte) []byte {
	b = append(b, `{"FsServerDefaults":{"blockSize":`...)
	b = strconv.AppendInt(b, h.opts.DefaultBlockSize, 10)
	b = append(b, `,"bytesPerChecksum":512,"checksumType":2,"defaultStoragePolicyId":7,"encryptDataTransfer":false,"fileBufferSize":4096,"keyProviderUri":"","replication":`...)
	b = strconv.AppendInt(b, int64(h.opts.DefaultReplication), 10)
	b = append(b, `,"trashInterval":`...)
	b = strconv.AppendInt(b, h.opts.TrashInterval, 10)
	return append(b, ",\"writePacketSize\":65536}}\n"...)
}

// redirect answers the first step of a data operation as Hadoop's NameNode
// does: 307 to the node holding the data (here: this server) with the same
// query plus the data marker; noredirect=true returns the Location as JSON.
func (h *handler) redirect(w http.ResponseWriter, r *http.Request, q *query) error {
	noRedirect, err := boolParam(q, "noredirect", false)
	if err != nil {
		return err
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q2 := q.values()
	delete(q2, "noredirect")
	q2.Set(dataParam, "true")
	host := r.Host
	if host == "" { // HTTP/1.0 without Host: name the address the request came in on
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	loc := (&url.URL{Scheme: scheme, Host: host, Path: r.URL.Path, RawQuery: q2.Encode()}).String()
	if noRedirect {
		b := append([]byte(`{"Location":`), appendString(nil, loc)...)
		writeJSON(w, http.StatusOK, append(b, "}\n"...))
		return nil
	}
	w.Header().Set("Location", loc)
	writeEmpty(w, http.StatusTemporaryRedirect)
	return nil
}

// toDataNode answers the first step of a data operation with a redirect
// to the DataNode opts.DataNode chooses, with the request's parameters and
// namenoderpcaddress as Hadoop's NameNode sends them; false when the data
// step is this server's.
func (h *handler) toDataNode(w http.ResponseWriter, r *http.Request, op, path string, offset int64, q *query) (bool, error) {
	if h.opts.DataNode == nil {
		return false, nil
	}
	noRedirect, err := boolParam(q, "noredirect", false)
	if err != nil {
		return false, err
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	var exclude []string
	for _, e := range strings.Split(q.Get("excludedatanodes"), ",") {
		if e = strings.TrimSpace(e); e != "" {
			exclude = append(exclude, e)
		}
	}
	addr, err := h.opts.DataNode(r.Context(), op, path, offset, h.user(q), client, exclude)
	if err != nil || addr == "" {
		return false, err
	}
	q2 := q.values()
	delete(q2, "noredirect")
	delete(q2, dataParam)
	if h.opts.NamenodeRPCAddress != "" {
		q2.Set("namenoderpcaddress", h.opts.NamenodeRPCAddress)
	}
	loc := (&url.URL{Scheme: "http", Host: addr, Path: r.URL.Path, RawQuery: q2.Encode()}).String()
	if noRedirect {
		b := append([]byte(`{"Location":`), appendString(nil, loc)...)
		writeJSON(w, http.StatusOK, append(b, "}\n"...))
		return true, nil
	}
	w.Header().Set("Location", loc)
	writeEmpty(w, http.StatusTemporaryRedirect)
	return true, nil
}

func isDataStep(q *query) bool { return q.Get(dataParam) == "true" }

// readBody reads a CREATE/APPEND body of at most MaxDataBytes. A longer one
// is refused as soon as it passes the limit, by its Content-Length before
// any of it is read, and the connection is closed after the answer rather
// than drained (http.MaxBytesReader), so a client cannot make the server
// buffer or read more than the limit.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := h.opts.MaxDataBytes
	hint := ""
	if h.opts.MaxDataKey != "" {
		hint = " (" + h.opts.MaxDataKey + ")"
	}
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		return nil, fmt.Errorf("%w: %d bytes exceed the limit of %d bytes per request%s", ErrTooLarge, r.ContentLength, limit, hint)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w: body exceeds the limit of %d bytes per request%s", ErrTooLarge, limit, hint)
		}
		// The client's failure (a timeout, a reset), not the server's:
		// an IOException it may see, not a logged internal error.
		return nil, fmt.Errorf("%w: read request body: %v", ErrIOException, err)
	}
	return buf.Bytes(), nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request, path string, q *query) error {
	overwrite, err := boolParam(q, "overwrite", false)
	if err != nil {
		return err
	}
	perm, err := permParam(q, 0o644)
	if err != nil {
		return err
	}
	repl := h.opts.DefaultReplication
	n, err := intParam(q, "replication", 16, 1)
	if err != nil {
		return err
	}
	if n > 0 {
		repl = int16(n)
	}
	bs, err := intParam(q, "blocksize", 64, 1)
	if err != nil {
		return err
	}
	if bs == 0 {
		bs = h.opts.DefaultBlockSize
	}
	if _, err := intParam(q, "buffersize", 32, 1); err != nil {
		return err
	}
	if !isDataStep(q) {
		if done, err := h.toDataNode(w, r, "CREATE", path, 0, q); done || err != nil {
			return err
		}
		return h.redirect(w, r, q)
	}
	data, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	if err := h.ns.Create(r.Context(), path, data, overwrite, perm, repl, bs, h.user(q)); err != nil {
		return err
	}
	w.Header().Set("Location", "webhdfs://"+r.Host+(&url.URL{Path: path}).EscapedPath())
	writeEmpty(w, http.StatusCreated)
	return nil
}

func (h *handler) appendOp(w http.ResponseWriter, r *http.Request, path string, q *query) error {
	if !isDataStep(q) {
		if done, err := h.toDataNode(w, r, "APPEND", path, 0, q); done || err != nil {
			return err
		}
		return h.redirect(w, r, q)
	}
	data, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	if err := h.ns.Append(r.Context(), path, data, h.user(q)); err != nil {
		return err
	}
	writeEmpty(w, http.StatusOK)
	return nil
}

func (h *handler) open(w http.ResponseWriter, r *http.Request, path string, q *query) error {
	offset, err := intParam(q, "offset", 64, 0)
	if err != nil {
		return err
	}
	// Hadoop's LengthParam is a long >= 0, absent meaning to the end of
	// the file; -1 is what some clients send for "absent".
	length := int64(-1)
	if s := q.Get("length"); s != "" && s != "-1" {
		if length, err = intParam(q, "length", 64, 0); err != nil {
			return err
		}
	}
	if _, err := intParam(q, "buffersize", 32, 1); err != nil {
		return err
	}
	if !isDataStep(q) {
		// Hadoop checks the file exists before redirecting, so a missing
		// file is a 404 on the first request, not after the redirect.
		st, err := h.ns.GetFileStatus(r.Context(), path, h.user(q))
		if err != nil {
			return err
		}
		if st.Type == TypeDirectory {
			return fmt.Errorf("%w: %s is a directory", ErrNotFound, path)
		}
		if offset > st.Length {
			return OffsetError(offset, st.Length, path)
		}
		if done, err := h.toDataNode(w, r, "OPEN", path, offset, q); done || err != nil {
			return err
		}
		// And whether the user may read it (Hadoop's getBlockLocations
		// checks READ before it names a DataNode): a zero-length read.
		if _, err := h.ns.Open(r.Context(), path, 0, 0, h.user(q)); err != nil {
			return err
		}
		return h.redirect(w, r, q)
	}
	data, err := h.ns.Open(r.Context(), path, offset, length, h.user(q))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data) // the client went away: nothing to tell it
	}
	return nil
}

func boolParam(q *query, name string, def bool) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badParam("Invalid value for webhdfs parameter %q: Failed to parse %q to Boolean.", name, s)
}

// intParam parses a radix-10 integer parameter of bitSize bits (Hadoop's
// ShortParam, IntegerParam, LongParam) that must be at least min; absent, it
// is 0. Hadoop's wording, so a client sees the IllegalArgumentException
// Hadoop's ParamException gives.
func intParam(q *query, name string, bitSize int, min int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, bitSize)
	if err != nil {
		kind := map[int]string{16: "short integer", 32: "integer", 64: "long integer"}[bitSize]
		return 0, badParam("Invalid value for webhdfs parameter %q: Failed to parse %q as a radix-10 %s.", name, s, kind)
	}
	if n < min {
		return 0, badParam("Invalid value for webhdfs parameter %q: Invalid parameter range: %s = %d < %d", name, name, n, min)
	}
	return n, nil
}

func permParam(q *query, def fs.FileMode) (fs.FileMode, error) {
	s := q.Get("permission")
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 8, 16)
	if err != nil {
		return 0, badParam("Invalid value for webhdfs parameter \"permission\": Failed to parse %q as a radix-8 short integer.", s)
	}
	if n > 0o1777 {
		return 0, badParam("Invalid value for webhdfs parameter \"permission\": Invalid parameter range: permission = %o > 1777", n)
	}
	perm := fs.FileMode(n & 0o777)
	if n&0o1000 != 0 {
		perm |= fs.ModeSticky
	}
	return perm, nil
}

// PermissionString renders perm as WebHDFS's octal permission ("755", "1777").
func PermissionString(perm fs.FileMode) string {
	n := uint32(perm.Perm())
	if perm&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return strconv.FormatUint(uint64(n), 8)
}

// jsonBufs recycles the buffers small JSON answers are built in; the body
// is copied into the connection's buffer by Write, so a buffer is reused
// once writeJSON returns.
var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// jsonContentType is shared by every answer's header map; net/http only
// reads it.
var jsonContentType = []string{"application/json"}

// autoLengthMax is below net/http's buffer before chunking (2048 bytes):
// a body that fits gets its Content-Length from net/http when the handler
// returns, without formatting a string per response.
const autoLengthMax = 2000

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	if len(body) > autoLengthMax {
		hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(code)
	_, _ = w.Write(body) // a write error means the client is gone
}

var (
	trueJSON  = []byte("{\"boolean\":true}\n")
	falseJSON = []byte("{\"boolean\":false}\n")
)

func writeBoolean(w http.ResponseWriter, v bool) {
	if v {
		writeJSON(w, http.StatusOK, trueJSON)
	} else {
		writeJSON(w, http.StatusOK, falseJSON)
	}
}

func writeEmpty(w http.ResponseWriter, code int) {
	w.Header()["Content-Length"] = []string{"0"}
	w.WriteHeader(code)
}

func appendPathJSON(b []byte, p string) []byte {
	b = append(b, `{"Path":`...)
	b = appendString(b, p)
	return append(b, "}\n"...)
}

// fileChecksum answers GETFILECHECKSUM as Hadoop's NameNode: a file in
// blocks is redirected to a DataNode holding its first block, which
// combines the DataNodes' block checksums; a file stored inline is summed
// here as the one block it would be.
func (h *handler) fileChecksum(w http.ResponseWriter, r *http.Request, path string, q *query) error {
	st, err := h.ns.GetFileStatus(r.Context(), path, h.user(q))
	if err != nil {
		return err
	}
	if st.Type == TypeDirectory {
		return fmt.Errorf("%w: %s is a directory", ErrNotFound, path)
	}
	if !isDataStep(q) {
		// The chooser's OPEN is GETFILECHECKSUM's choice too: a holder of
		// the block at offset 0, after the READ check.
		if done, err := h.toDataNode(w, r, "OPEN", path, 0, q); done || err != nil {
			return err
		}
	}
	data, err := h.ns.Open(r.Context(), path, 0, -1, h.user(q))
	if err != nil {
		return err
	}
	b, err := json.Marshal(InlineChecksum(data, 512))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, append(b, '\n'))
	return nil
}

// blockLocations answers GETFILEBLOCKLOCATIONS
// ({"BlockLocations":{"BlockLocation":[…]}}) for [offset, offset+length).
func (h *handler) blockLocations(w http.ResponseWriter, r *http.Request, path string, q *query) error {
	offset, err := intParam(q, "offset", 64, 0)
	if err != nil {
		return err
	}
	length := int64(1<<63 - 1)
	if s := q.Get("length"); s != "" && s != "-1" {
		if length, err = intParam(q, "length", 64, 0); err != nil {
			return err
		}
	}
	st, err := h.ns.GetFileStatus(r.Context(), path, h.user(q))
	if err != nil {
		return err
	}
	if st.Type == TypeDirectory {
		return fmt.Errorf("%w: %s is a directory", ErrNotFound, path)
	}
	locs := []BlockLocation{}
	if h.opts.BlockLocations != nil {
		if locs, err = h.opts.BlockLocations(r.Context(), path, offset, length, h.user(q)); err != nil {
			return err
		}
		if locs == nil {
			locs = []BlockLocation{}
		}
	}
	b, err := json.Marshal(map[string]map[string][]BlockLocation{"BlockLocations": {"BlockLocation": locs}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, append(b, '\n'))
	return nil
}
