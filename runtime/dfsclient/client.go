// Package dfsclient is hactl's equivalent of Hadoop's DFSClient data path:
// a Writer that streams a file into blocks through pipelines of DataNodes
// (DFSOutputStream and its DataStreamer) and a Reader that reads a file's
// blocks from the best DataNode holding each (DFSInputStream), both over
// DataTransferProtocol (runtime/hdfs/dtp) and the NameNode's ClientProtocol
// (runtime/hdfs; over the network runtime/hdfs/nnrpc).
//
// Memory is bounded whatever the file size: a Writer holds at most
// MaxPacketsInFlight packets (64 KiB each) not yet acknowledged by its
// pipeline, a Reader one packet.
package dfsclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/hdfs"
)

// Hadoop's client keys this package reads, with hdfs-default.xml's defaults.
const (
	KeyWritePacketSize      = "dfs.client-write-packet-size"
	KeyBytesPerChecksum     = "dfs.bytes-per-checksum"
	KeyMaxPacketsInFlight   = "dfs.client.write.max-packets-in-flight"
	KeySocketTimeout        = "dfs.client.socket-timeout"
	KeyBlockWriteRetries    = "dfs.client.block.write.retries"
	KeyMaxBlockAcquire      = "dfs.client.max.block.acquire.failures"
	KeyReplaceDatanode      = "dfs.client.block.write.replace-datanode-on-failure.enable"
	KeyCompleteRetries      = "dfs.client.block.write.locateFollowingBlock.retries"
	KeyCompleteInitialDelay = "dfs.client.block.write.locateFollowingBlock.initial.delay.ms"

	DefaultWritePacketSize      = 64 << 10
	DefaultBytesPerChecksum     = 512
	DefaultMaxPacketsInFlight   = 80
	DefaultSocketTimeout        = 60 * time.Second
	DefaultBlockWriteRetries    = 3
	DefaultMaxBlockAcquire      = 3
	DefaultCompleteRetries      = 5
	DefaultCompleteInitialDelay = 400 * time.Millisecond
	// DefaultLeaseRenewInterval is half the NameNode's soft lease limit
	// (60 s), as Hadoop's LeaseRenewer.
	DefaultLeaseRenewInterval = 30 * time.Second
)

// Options configure a Client; zero values take the defaults above.
type Options struct {
	// User is the user every call runs as (permissions are checked as them).
	User string
	// ClientName names the client to the NameNode (leases are held by it);
	// default "DFSClient_hactl_<random>".
	ClientName         string
	WritePacketSize    int
	BytesPerChecksum   int
	MaxPacketsInFlight int
	SocketTimeout      time.Duration
	BlockWriteRetries  int
	MaxBlockAcquire    int
	// NoReplaceDatanode turns off adding a DataNode to a pipeline that lost
	// some (dfs.client.block.write.replace-datanode-on-failure.enable=false).
	NoReplaceDatanode    bool
	CompleteRetries      int
	CompleteInitialDelay time.Duration
	LeaseRenewInterval   time.Duration
	// Dial connects to a DataNode's DataTransferProtocol address.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Local, when set, is the DataNode this client runs in (the
	// DataNode's own WebHDFS): its replicas are read first, and from their
	// files as Hadoop's short-circuit reads (BlockReaderLocal) do, not over
	// a DataTransferProtocol connection to itself.
	Local LocalDataNode
	// Sleep waits between retries; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf, when set, is told of pipeline recoveries and retries.
	Logf func(format string, args ...any)
}

// OptionsFromConfig reads the client keys of a Hadoop configuration.
func OptionsFromConfig(conf *hadoopconf.Config) (Options, error) {
	var o Options
	ints := []struct {
		key string
		dst *int
	}{
		{KeyWritePacketSize, &o.WritePacketSize}, {KeyBytesPerChecksum, &o.BytesPerChecksum},
		{KeyMaxPacketsInFlight, &o.MaxPacketsInFlight}, {KeyBlockWriteRetries, &o.BlockWriteRetries},
		{KeyMaxBlockAcquire, &o.MaxBlockAcquire}, {KeyCompleteRetries, &o.CompleteRetries},
	}
	for _, k := range ints {
		n, err := conf.Int(k.key, 0)
		if err != nil {
			return o, err
		}
		*k.dst = int(n)
	}
	var err error
	if o.SocketTimeout, err = conf.Millis(KeySocketTimeout, 0); err != nil {
		return o, err
	}
	if o.CompleteInitialDelay, err = conf.Millis(KeyCompleteInitialDelay, 0); err != nil {
		return o, err
	}
	replace, err := conf.Bool(KeyReplaceDatanode, true)
	if err != nil {
		return o, err
	}
	o.NoReplaceDatanode = !replace
	return o, nil
}

func (o *Options) fill() {
	if o.ClientName == "" {
		var b [8]byte
		rand.Read(b[:])
		o.ClientName = "DFSClient_hactl_" + hex.EncodeToString(b[:])
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.WritePacketSize, DefaultWritePacketSize)
	def(&o.BytesPerChecksum, DefaultBytesPerChecksum)
	def(&o.MaxPacketsInFlight, DefaultMaxPacketsInFlight)
	def(&o.BlockWriteRetries, DefaultBlockWriteRetries)
	def(&o.MaxBlockAcquire, DefaultMaxBlockAcquire)
	def(&o.CompleteRetries, DefaultCompleteRetries)
	if o.SocketTimeout <= 0 {
		o.SocketTimeout = DefaultSocketTimeout
	}
	if o.CompleteInitialDelay <= 0 {
		o.CompleteInitialDelay = DefaultCompleteInitialDelay
	}
	if o.LeaseRenewInterval <= 0 {
		o.LeaseRenewInterval = DefaultLeaseRenewInterval
	}
	if o.Dial == nil {
		d := &net.Dialer{Timeout: o.SocketTimeout, KeepAlive: 30 * time.Second}
		o.Dial = d.DialContext
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Client reads and writes files of one nameservice as one user.
type Client struct {
	nn   hdfs.ClientProtocol
	opts Options

	mu      sync.Mutex
	writers int           // open writers: the lease is renewed while any is
	stop    chan struct{} // stops the renewer
}

// New returns a client calling nn (the nameservice's ClientProtocol; over
// the network an *nnrpc.Client, which fails over between NameNodes).
func New(nn hdfs.ClientProtocol, opts Options) *Client {
	opts.fill()
	return &Client{nn: nn, opts: opts}
}

// Name is the client's name, which holds its files' leases.
func (c *Client) Name() string { return c.opts.ClientName }

func (c *Client) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// leaseOpened starts renewing the client's lease with its first open
// writer, as Hadoop's LeaseRenewer: the NameNode recovers the lease of a
// writer silent for its soft limit (60 s).
func (c *Client) leaseOpened() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writers++
	if c.writers > 1 {
		return
	}
	stop := make(chan struct{})
	c.stop = stop
	go func() {
		t := time.NewTicker(c.opts.LeaseRenewInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), c.opts.LeaseRenewInterval)
			if err := c.nn.RenewLease(ctx, c.opts.ClientName, c.opts.User); err != nil {
				c.logf("dfsclient: renew lease of %s: %v", c.opts.ClientName, err)
			}
			cancel()
		}
	}()
}

func (c *Client) leaseClosed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writers--
	if c.writers == 0 && c.stop != nil {
		close(c.stop)
		c.stop = nil
	}
}

// dialDatanode connects to a DataNode's DataTransferProtocol port.
func (c *Client) dialDatanode(ctx context.Context, d hdfs.DatanodeInfo) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.opts.SocketTimeout)
	defer cancel()
	var conn net.Conn
	var err error
	if c.opts.Local != nil && c.opts.Local.IsSelf(d) {
		conn, err = c.opts.Local.DialSelf()
	} else {
		conn, err = c.opts.Dial(dctx, "tcp", d.XferAddr())
	}
	if err != nil {
		return nil, fmt.Errorf("connect to DataNode %s: %w", d.XferAddr(), err)
	}
	return conn, nil
}
