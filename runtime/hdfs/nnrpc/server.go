package nnrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// maxArgBytes bounds a call's JSON body. A full block report is the largest
// (about 150 bytes a replica): 64 MiB holds several hundred thousand.
const maxArgBytes = 64 << 20

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// Verifier checks every call's signature. Nil refuses every call, as
	// the NameNode's /ha/* endpoints do without a cluster secret.
	Verifier *auth.Verifier
	// Logf, when set, is told of failures no Hadoop exception names.
	Logf func(format string, args ...any)
}

type method func(ctx context.Context, body io.Reader) (any, error)

// Handler serves ClientProtocol and DatanodeProtocol calls; the NameNode
// mounts it at PathPrefix ("/nnrpc/v1/"). Either protocol may be nil (its
// calls then answer 404).
func Handler(cp hdfs.ClientProtocol, dp hdfs.DatanodeProtocol, opts HandlerOptions) http.Handler {
	m := map[string]method{}
	if cp != nil {
		addClientMethods(m, cp)
	}
	if dp != nil {
		addDatanodeMethods(m, dp)
	}
	return &handler{methods: m, opts: opts}
}

type handler struct {
	methods map[string]method
	opts    HandlerOptions
}

const (
	authException = "AuthenticationException"
	authClass     = "org.apache.hadoop.security.authentication.client.AuthenticationException"
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opts.Verifier == nil {
		writeRemote(w, http.StatusUnauthorized, &webhdfs.RemoteException{Exception: authException, JavaClassName: authClass,
			Message: "no cluster secret configured (" + auth.ConfKey + ")"})
		return
	}
	if err := h.opts.Verifier.Verify(r); err != nil {
		writeRemote(w, http.StatusUnauthorized, &webhdfs.RemoteException{Exception: authException, JavaClassName: authClass, Message: err.Error()})
		return
	}
	name, _ := strings.CutPrefix(r.URL.Path, PathPrefix)
	call, ok := h.methods[name]
	if !ok {
		writeRemote(w, http.StatusNotFound, &webhdfs.RemoteException{Exception: "RpcNoSuchMethodException",
			JavaClassName: "org.apache.hadoop.ipc.RpcNoSuchMethodException", Message: "Unknown method " + name})
		return
	}
	if r.Method != http.MethodPost {
		writeRemote(w, http.StatusMethodNotAllowed, &webhdfs.RemoteException{Exception: "IllegalArgumentException",
			JavaClassName: "java.lang.IllegalArgumentException", Message: r.Method + " is not supported: every call is a POST"})
		return
	}
	out, err := call(r.Context(), http.MaxBytesReader(w, r.Body, maxArgBytes))
	if err != nil {
		re := webhdfs.ToRemoteException(err)
		if re.Exception == "IOException" && h.opts.Logf != nil {
			h.opts.Logf("nnrpc %s: %v", name, err)
		}
		writeRemote(w, re.StatusCode, re)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeRemote(w, http.StatusInternalServerError, webhdfs.ToRemoteException(fmt.Errorf("%w: encode %s answer: %v", webhdfs.ErrIOException, name, err)))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeRemote(w http.ResponseWriter, code int, re *webhdfs.RemoteException) {
	if code == 0 {
		code = http.StatusInternalServerError
	}
	b, _ := json.Marshal(map[string]*webhdfs.RemoteException{"RemoteException": re})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// bind turns a typed call into a method: it decodes the arguments, runs the
// call and gives back its result.
func bind[A, R any](f func(ctx context.Context, a *A) (R, error)) method {
	return func(ctx context.Context, body io.Reader) (any, error) {
		var a A
		dec := json.NewDecoder(body)
		if err := dec.Decode(&a); err != nil {
			// A bad body is the caller's bug: Hadoop answers an RPC it
			// cannot decode with an RpcServerException, an IOException.
			return nil, fmt.Errorf("%w: decode arguments: %v", webhdfs.ErrIOException, err)
		}
		// Reading to the end lets the auth body digest check the whole body.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, fmt.Errorf("%w: read arguments: %v", webhdfs.ErrIOException, err)
		}
		return f(ctx, &a)
	}
}

// done is the result of a call that returns only an error.
type done struct{}

func addClientMethods(m map[string]method, cp hdfs.ClientProtocol) {
	m[opCreate] = bind(func(ctx context.Context, a *createArgs) (webhdfs.FileStatus, error) {
		return cp.Create(ctx, a.Path, a.ClientName, a.Opts, a.User)
	})
	m[opAppend] = bind(func(ctx context.Context, a *appendArgs) (appendResult, error) {
		lb, st, err := cp.Append(ctx, a.Path, a.ClientName, a.User)
		return appendResult{Block: lb, Status: st}, err
	})
	m[opAddBlock] = bind(func(ctx context.Context, a *addBlockArgs) (hdfs.LocatedBlock, error) {
		return cp.AddBlock(ctx, a.Path, a.ClientName, a.Previous, a.Excluded, a.FileID, a.User)
	})
	m[opAbandonBlock] = bind(func(ctx context.Context, a *abandonBlockArgs) (done, error) {
		return done{}, cp.AbandonBlock(ctx, a.Block, a.FileID, a.Path, a.ClientName, a.User)
	})
	m[opComplete] = bind(func(ctx context.Context, a *completeArgs) (boolResult, error) {
		ok, err := cp.Complete(ctx, a.Path, a.ClientName, a.Last, a.FileID, a.User)
		return boolResult{ok}, err
	})
	m[opGetBlockLocations] = bind(func(ctx context.Context, a *getBlockLocationsArgs) (hdfs.LocatedBlocks, error) {
		return cp.GetBlockLocations(ctx, a.Path, a.Offset, a.Length, a.User)
	})
	m[opGetAdditionalDatanode] = bind(func(ctx context.Context, a *getAdditionalDatanodeArgs) (hdfs.LocatedBlock, error) {
		return cp.GetAdditionalDatanode(ctx, a.Path, a.FileID, a.Block, a.Existing, a.Excluded, a.NumAdditional, a.ClientName, a.User)
	})
	m[opUpdateBlockForPipeline] = bind(func(ctx context.Context, a *updateBlockForPipelineArgs) (hdfs.LocatedBlock, error) {
		return cp.UpdateBlockForPipeline(ctx, a.Block, a.ClientName, a.User)
	})
	m[opUpdatePipeline] = bind(func(ctx context.Context, a *updatePipelineArgs) (done, error) {
		return done{}, cp.UpdatePipeline(ctx, a.ClientName, a.OldBlock, a.NewBlock, a.NewNodes, a.User)
	})
	m[opFsync] = bind(func(ctx context.Context, a *fsyncArgs) (done, error) {
		return done{}, cp.Fsync(ctx, a.Path, a.FileID, a.ClientName, a.LastBlockLength, a.User)
	})
	m[opRenewLease] = bind(func(ctx context.Context, a *renewLeaseArgs) (done, error) {
		return done{}, cp.RenewLease(ctx, a.ClientName, a.User)
	})
	m[opRecoverLease] = bind(func(ctx context.Context, a *recoverLeaseArgs) (boolResult, error) {
		ok, err := cp.RecoverLease(ctx, a.Path, a.ClientName, a.User)
		return boolResult{ok}, err
	})
	m[opGetDatanodeReport] = bind(func(ctx context.Context, a *getDatanodeReportArgs) ([]hdfs.DatanodeInfo, error) {
		return cp.GetDatanodeReport(ctx, a.Kind, a.User)
	})
	m[opClientReportBadBlocks] = bind(func(ctx context.Context, a *clientReportBadBlocksArgs) (done, error) {
		return done{}, cp.ReportBadBlocks(ctx, a.Blocks, a.User)
	})
	m[opGetServerDefaults] = bind(func(ctx context.Context, _ *noArgs) (hdfs.ServerDefaults, error) {
		return cp.GetServerDefaults(ctx)
	})
}

func addDatanodeMethods(m map[string]method, dp hdfs.DatanodeProtocol) {
	m[opVersionRequest] = bind(func(ctx context.Context, _ *noArgs) (hdfs.NamespaceInfo, error) {
		return dp.VersionRequest(ctx)
	})
	m[opRegisterDatanode] = bind(func(ctx context.Context, a *registrationArgs) (hdfs.Registration, error) {
		return dp.RegisterDatanode(ctx, a.Reg)
	})
	m[opSendHeartbeat] = bind(func(ctx context.Context, a *hdfs.Heartbeat) (hdfs.HeartbeatResponse, error) {
		return dp.SendHeartbeat(ctx, *a)
	})
	m[opBlockReport] = bind(func(ctx context.Context, a *blockReportArgs) (commandsResult, error) {
		cmds, err := dp.BlockReport(ctx, a.Reg, a.Replicas)
		return commandsResult{cmds}, err
	})
	m[opBlockReceivedAndDeleted] = bind(func(ctx context.Context, a *blockReceivedAndDeletedArgs) (done, error) {
		return done{}, dp.BlockReceivedAndDeleted(ctx, a.Reg, a.Events)
	})
	m[opDatanodeReportBadBlocks] = bind(func(ctx context.Context, a *datanodeReportBadBlocksArgs) (done, error) {
		return done{}, dp.ReportBadBlocks(ctx, a.Reg, a.Blocks)
	})
	m[opCommitBlockSynchronization] = bind(func(ctx context.Context, a *hdfs.CommitSync) (done, error) {
		return done{}, dp.CommitBlockSynchronization(ctx, *a)
	})
}
