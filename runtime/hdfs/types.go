package hdfs

import (
	"net"
	"strconv"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// Block is a block's identity and its length as the holder knows it
// (Hadoop's Block: blockId, generationStamp, numBytes).
type Block struct {
	ID       int64 `json:"id"`
	GenStamp int64 `json:"gs"`
	NumBytes int64 `json:"len"`
}

// BlockName is Hadoop's name for a block's data file ("blk_<id>").
func (b Block) BlockName() string { return "blk_" + strconv.FormatInt(b.ID, 10) }

// String is Hadoop's Block.toString: "blk_<id>_<genstamp>".
func (b Block) String() string { return b.BlockName() + "_" + strconv.FormatInt(b.GenStamp, 10) }

// ExtendedBlock is a block within a block pool (one pool per nameservice).
type ExtendedBlock struct {
	PoolID string `json:"pool"`
	Block
}

// String is Hadoop's ExtendedBlock.toString: "<pool>:blk_<id>_<gs>".
func (b ExtendedBlock) String() string { return b.PoolID + ":" + b.Block.String() }

// DatanodeID identifies a DataNode and its endpoints (Hadoop's DatanodeID).
// UUID is the datanodeUuid of the DataNode's VERSION files: stable across
// restarts and address changes.
type DatanodeID struct {
	UUID     string `json:"uuid"`
	IP       string `json:"ip"`
	Hostname string `json:"hostname"`
	XferPort int    `json:"xferPort"` // dfs.datanode.address: DataTransferProtocol
	InfoPort int    `json:"infoPort"` // dfs.datanode.http.address: WebHDFS data path, /jmx
	IPCPort  int    `json:"ipcPort"`  // dfs.datanode.ipc.address
}

// XferAddr is the DataTransferProtocol address, ip:port.
func (d DatanodeID) XferAddr() string { return net.JoinHostPort(d.IP, strconv.Itoa(d.XferPort)) }

// InfoAddr is the HTTP address, ip:port.
func (d DatanodeID) InfoAddr() string { return net.JoinHostPort(d.IP, strconv.Itoa(d.InfoPort)) }

// AdminState is a DataNode's decommissioning state, spelled as Hadoop's
// DatanodeInfo.AdminStates.
type AdminState string

const (
	AdminNormal                 AdminState = "NORMAL"
	AdminDecommissionInProgress AdminState = "DECOMMISSION_INPROGRESS"
	AdminDecommissioned         AdminState = "DECOMMISSIONED"
)

// DatanodeInfo is a DataNode as the NameNode sees it (Hadoop's DatanodeInfo).
type DatanodeInfo struct {
	DatanodeID
	Capacity      int64      `json:"capacity"`
	DFSUsed       int64      `json:"dfsUsed"`
	NonDFSUsed    int64      `json:"nonDfsUsed"`
	Remaining     int64      `json:"remaining"`
	BlockPoolUsed int64      `json:"blockPoolUsed"`
	LastUpdate    int64      `json:"lastUpdate"` // ms since the epoch of the last heartbeat
	XceiverCount  int        `json:"xceiverCount"`
	AdminState    AdminState `json:"adminState"`
	Location      string     `json:"location"` // network location, "/default-rack"
}

// LocatedBlock is a block of a file with where its replicas are, best first
// (Hadoop's LocatedBlock).
type LocatedBlock struct {
	Block      ExtendedBlock  `json:"b"`
	Offset     int64          `json:"offset"` // of the block's first byte in the file
	Locations  []DatanodeInfo `json:"locs"`
	StorageIDs []string       `json:"storageIDs,omitempty"`
	Corrupt    bool           `json:"corrupt"`
	// Token is the block access token a DataNode checks when
	// dfs.block.access.token.enable is true; nil otherwise.
	Token *Token `json:"token,omitempty"`
}

// Token is Hadoop's Token (TokenProto): a client hands it back unchanged.
type Token struct {
	Identifier []byte `json:"identifier"`
	Password   []byte `json:"password"`
	Kind       string `json:"kind"` // "HDFS_BLOCK_TOKEN"
	Service    string `json:"service"`
}

// LocatedBlocks is a file's blocks in a range (Hadoop's LocatedBlocks).
// For a file under construction, FileLength counts only complete blocks and
// LastBlock is the block being written (its length as the NameNode knows
// it; a reader asks a DataNode for the visible length).
type LocatedBlocks struct {
	FileLength        int64          `json:"fileLength"`
	Blocks            []LocatedBlock `json:"blocks"`
	UnderConstruction bool           `json:"underConstruction"`
	LastBlock         *LocatedBlock  `json:"lastBlock,omitempty"`
	LastBlockComplete bool           `json:"lastBlockComplete"`
}

// ServerDefaults are the NameNode's defaults a writer uses (Hadoop's
// FsServerDefaults).
type ServerDefaults struct {
	BlockSize        int64  `json:"blockSize"`
	BytesPerChecksum int    `json:"bytesPerChecksum"`
	WritePacketSize  int    `json:"writePacketSize"`
	Replication      int16  `json:"replication"`
	FileBufferSize   int    `json:"fileBufferSize"`
	TrashInterval    int64  `json:"trashInterval"` // minutes
	ChecksumType     string `json:"checksumType"`  // "CRC32C"
}

// BlockLocations converts the blocks to GETFILEBLOCKLOCATIONS's JSON
// (Hadoop's BlockLocation: hosts, ip:xferPort names, rack topology paths).
func (lbs LocatedBlocks) BlockLocations() []webhdfs.BlockLocation {
	out := make([]webhdfs.BlockLocation, 0, len(lbs.Blocks))
	for _, lb := range lbs.Blocks {
		bl := webhdfs.BlockLocation{Offset: lb.Offset, Length: lb.Block.NumBytes, Corrupt: lb.Corrupt,
			CachedHosts: []string{}, Hosts: []string{}, Names: []string{}, StorageTypes: []string{}, TopologyPaths: []string{}}
		for _, d := range lb.Locations {
			host := d.Hostname
			if host == "" {
				host = d.IP
			}
			rack := d.Location
			if rack == "" {
				rack = "/default-rack"
			}
			bl.Hosts = append(bl.Hosts, host)
			bl.Names = append(bl.Names, d.XferAddr())
			bl.StorageTypes = append(bl.StorageTypes, "DISK")
			bl.TopologyPaths = append(bl.TopologyPaths, rack+"/"+d.XferAddr())
		}
		out = append(out, bl)
	}
	return out
}
