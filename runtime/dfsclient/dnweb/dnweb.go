// Package dnweb is the DataNode's WebHDFS data path (Hadoop's
// DatanodeWebHdfsMethods): the NameNode answers CREATE, APPEND, OPEN and
// GETFILECHECKSUM with a 307 to a DataNode's HTTP address, and this handler,
// mounted by the DataNode at /webhdfs/v1/, streams the data through the
// block pipeline (runtime/dfsclient) as the user the request names.
//
// The redirect carries namenoderpcaddress: the nameservice ID (or the
// address of one of its NameNodes), which the handler resolves to a
// ClientProtocol over nnrpc, signed with the cluster secret the DataNode
// holds. Errors are Hadoop's RemoteException JSON.
package dnweb

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// ParamNameNode is the redirect's parameter naming the NameNode (Hadoop's
// NamenodeAddressParam).
const ParamNameNode = "namenoderpcaddress"

// Resolver returns the ClientProtocol of the nameservice a
// namenoderpcaddress names.
type Resolver func(nnAddr string) (hdfs.ClientProtocol, error)

// Options configure Handler.
type Options struct {
	// Client tunes the data path (packet size, timeouts; User and
	// ClientName are set per request).
	Client dfsclient.Options
	// IdleTimeout bounds a stall of the body or of the client reading the
	// answer (dfs.client.socket-timeout, 60 s): data moves for as long as
	// it keeps moving, unlike the DataNode's other HTTP calls.
	IdleTimeout time.Duration
	// Logf, when set, is told of server-side failures.
	Logf func(format string, args ...any)
}

// Handler serves the data path; mount it at "/webhdfs/v1/" (webhdfs.PathPrefix + "/").
func Handler(resolve Resolver, opts Options) http.Handler {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = dfsclient.DefaultSocketTimeout
	}
	return &handler{resolve: resolve, opts: opts}
}

type handler struct {
	resolve Resolver
	opts    Options
}

func badParam(format string, args ...any) error {
	return webhdfs.IllegalArgumentError(format, args...)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.serve(w, r); err != nil {
		webhdfs.WriteError(w, err, h.opts.Logf)
	}
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) error {
	p, ok := strings.CutPrefix(r.URL.Path, webhdfs.PathPrefix)
	if !ok || !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w: %s is not under %s", webhdfs.ErrNotFound, r.URL.Path, webhdfs.PathPrefix)
	}
	path := p
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	q := r.URL.Query()
	op := strings.ToUpper(q.Get("op"))
	if op == "" {
		return badParam("Invalid value for webhdfs parameter \"op\": op is missing")
	}
	want := map[string]string{"CREATE": http.MethodPut, "APPEND": http.MethodPost, "OPEN": http.MethodGet, "GETFILECHECKSUM": http.MethodGet}[op]
	if want == "" {
		// Hadoop's DataNode WebHdfsHandler wording.
		return badParam("Invalid operation %s", op)
	}
	if r.Method != want && !(want == http.MethodGet && r.Method == http.MethodHead) {
		return badParam("Invalid value for webhdfs parameter \"op\": %s is not a valid %s operation.", op, r.Method)
	}
	nnAddr := q.Get(ParamNameNode)
	if nnAddr == "" {
		return badParam("Invalid value for webhdfs parameter %q: %s is not specified.", ParamNameNode, ParamNameNode)
	}
	nn, err := h.resolve(nnAddr)
	if err != nil {
		return badParam("Invalid value for webhdfs parameter %q: %v", ParamNameNode, err)
	}
	user := q.Get("user.name")
	if user == "" {
		user = "dr.who"
	}
	copts := h.opts.Client
	copts.User, copts.ClientName = user, ""
	c := dfsclient.New(nn, copts)
	switch op {
	case "CREATE":
		return h.create(w, r, c, path, nnAddr, q)
	case "APPEND":
		return h.append(w, r, c, path, q)
	case "OPEN":
		return h.open(w, r, c, path, q)
	default:
		return h.checksum(w, r, c, path)
	}
}

func (h *handler) create(w http.ResponseWriter, r *http.Request, c *dfsclient.Client, path, nnAddr string, q url.Values) error {
	overwrite, err := boolParam(q, "overwrite")
	if err != nil {
		return err
	}
	perm, err := permParam(q, 0o644)
	if err != nil {
		return err
	}
	repl, err := intParam(q, "replication", 16, 1)
	if err != nil {
		return err
	}
	bs, err := intParam(q, "blocksize", 64, 1)
	if err != nil {
		return err
	}
	if _, err := intParam(q, "buffersize", 32, 1); err != nil {
		return err
	}
	wr, err := c.Create(r.Context(), path, hdfs.CreateOptions{Perm: perm, Overwrite: overwrite, CreateParent: true, Replication: int16(repl), BlockSize: bs})
	if err != nil {
		return err
	}
	if err := h.copyBody(w, r, wr); err != nil {
		return err
	}
	// Hadoop's DataNode names the file by the NameNode it wrote through.
	w.Header().Set("Location", "hdfs://"+nnAddr+(&url.URL{Path: path}).EscapedPath())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (h *handler) append(w http.ResponseWriter, r *http.Request, c *dfsclient.Client, path string, q url.Values) error {
	if _, err := intParam(q, "buffersize", 32, 1); err != nil {
		return err
	}
	wr, err := c.Append(r.Context(), path)
	if err != nil {
		return err
	}
	if err := h.copyBody(w, r, wr); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// copyBody streams the request body into wr and closes it; on any failure
// the file is left to lease recovery (Abort), and the error says whether
// the client or the cluster failed.
func (h *handler) copyBody(w http.ResponseWriter, r *http.Request, wr *dfsclient.Writer) error {
	rc := http.NewResponseController(w)
	body := &idleReader{r: r.Body, rc: rc, idle: h.opts.IdleTimeout}
	// The body is read straight into the writer's packets.
	if _, err := wr.ReadFrom(body); err != nil {
		wr.Abort()
		if body.err != nil {
			return fmt.Errorf("%w: read request body: %v", webhdfs.ErrIOException, body.err)
		}
		return err
	}
	err := wr.Close()
	// Closing waits for the last acks and complete's retries: the answer
	// gets its own time.
	_ = rc.SetWriteDeadline(time.Now().Add(h.opts.IdleTimeout))
	return err
}

// idleReader moves the deadlines forward before every read: a body
// that keeps arriving is read for as long as it takes, one that stalls
// for idle is cut off.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	err  error // the body's own error (not io.EOF): the client's failure, not the cluster's
}

func (b *idleReader) Read(p []byte) (int, error) {
	// The answer follows the body: its deadline moves along too, or the
	// server's whole-request write deadline would cut it off.
	d := time.Now().Add(b.idle)
	_ = b.rc.SetReadDeadline(d)
	_ = b.rc.SetWriteDeadline(d)
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (h *handler) open(w http.ResponseWriter, r *http.Request, c *dfsclient.Client, path string, q url.Values) error {
	offset, err := intParam(q, "offset", 64, 0)
	if err != nil {
		return err
	}
	length := int64(-1)
	if s := q.Get("length"); s != "" && s != "-1" {
		if length, err = intParam(q, "length", 64, 0); err != nil {
			return err
		}
	}
	if _, err := intParam(q, "buffersize", 32, 1); err != nil {
		return err
	}
	rd, err := c.Open(r.Context(), path)
	if err != nil {
		return err
	}
	defer rd.Close()
	size := rd.Len()
	if offset > size {
		return webhdfs.OffsetError(offset, size, path)
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	if _, err := rd.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	// The first bytes are read before the answer starts, so that a block
	// no DataNode can serve is an error status, not a cut-off 200.
	first := make([]byte, min(n, 64<<10))
	if _, err := io.ReadFull(rd, first); err != nil {
		return fmt.Errorf("%w: %v", webhdfs.ErrIOException, err)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	rc := http.NewResponseController(w)
	out := &idleWriter{w: w, rc: rc, idle: h.opts.IdleTimeout}
	if _, err := out.Write(first); err != nil {
		return nil // the client went away
	}
	err = nil
	if offset+n == size {
		// The rest of the file: written from the verified packets as
		// they arrive, not copied through a buffer of ours.
		_, err = rd.WriteTo(out)
	} else {
		_, err = io.CopyBuffer(out, io.LimitReader(rd, n-int64(len(first))), make([]byte, 64<<10))
	}
	if err != nil {
		// Mid-body the status is sent: cutting the connection short is
		// how the client learns (its Content-Length is not met).
		if h.opts.Logf != nil {
			h.opts.Logf("dnweb: OPEN %s: %v", path, err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// idleWriter moves the write deadline forward before every write.
type idleWriter struct {
	w    io.Writer
	rc   *http.ResponseController
	idle time.Duration
}

func (o *idleWriter) Write(p []byte) (int, error) {
	_ = o.rc.SetWriteDeadline(time.Now().Add(o.idle))
	return o.w.Write(p)
}

func (h *handler) checksum(w http.ResponseWriter, r *http.Request, c *dfsclient.Client, path string) error {
	sum, err := c.GetFileChecksum(r.Context(), path)
	if err != nil {
		return err
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

func boolParam(q url.Values, name string) (bool, error) {
	switch s := strings.ToLower(q.Get(name)); s {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badParam("Invalid value for webhdfs parameter %q: Failed to parse %q to Boolean.", name, q.Get(name))
}

// intParam is Hadoop's Short/Integer/LongParam: radix 10, at least min,
// absent 0.
func intParam(q url.Values, name string, bitSize int, min int64) (int64, error) {
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

func permParam(q url.Values, def fs.FileMode) (fs.FileMode, error) {
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
