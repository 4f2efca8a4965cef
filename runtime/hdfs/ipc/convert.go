package ipc

import (
	"io/fs"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// Conversions between runtime/hdfs's and runtime/webhdfs's Go types and
// Hadoop's protobuf messages (PBHelperClient's job in Hadoop).

// permFromProto is an FsPermissionProto as a FileMode: the rwx bits and the
// sticky bit (Hadoop's 01000).
func permFromProto(p *pb.FsPermissionProto) fs.FileMode {
	n := p.GetPerm()
	m := fs.FileMode(n & 0o777)
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// permToProto parses WebHDFS's octal permission string ("755", "1777").
func permToProto(s string) *pb.FsPermissionProto {
	n, _ := strconv.ParseUint(s, 8, 32)
	return &pb.FsPermissionProto{Perm: proto.Uint32(uint32(n) & 0o1777)}
}

func fileStatusToProto(st webhdfs.FileStatus) *pb.HdfsFileStatusProto {
	t := pb.HdfsFileStatusProto_IS_FILE
	if st.Type == webhdfs.TypeDirectory {
		t = pb.HdfsFileStatusProto_IS_DIR
	}
	return &pb.HdfsFileStatusProto{
		FileType:         t.Enum(),
		Path:             []byte(st.PathSuffix),
		Length:           proto.Uint64(uint64(st.Length)),
		Permission:       permToProto(st.Permission),
		Owner:            proto.String(st.Owner),
		Group:            proto.String(st.Group),
		ModificationTime: proto.Uint64(uint64(st.ModificationTime)),
		AccessTime:       proto.Uint64(uint64(st.AccessTime)),
		BlockReplication: proto.Uint32(uint32(st.Replication)),
		Blocksize:        proto.Uint64(uint64(st.BlockSize)),
		FileId:           proto.Uint64(uint64(st.FileID)),
		ChildrenNum:      proto.Int32(int32(st.ChildrenNum)),
	}
}

// fileStatusFromProto is the inverse, for hactl's own client side.
func fileStatusFromProto(p *pb.HdfsFileStatusProto) webhdfs.FileStatus {
	t := webhdfs.TypeFile
	if p.GetFileType() == pb.HdfsFileStatusProto_IS_DIR {
		t = webhdfs.TypeDirectory
	}
	return webhdfs.FileStatus{PathSuffix: string(p.GetPath()), Type: t, Length: int64(p.GetLength()),
		Owner: p.GetOwner(), Group: p.GetGroup(), Permission: webhdfs.PermissionString(permFromProto(p.GetPermission())),
		AccessTime: int64(p.GetAccessTime()), ModificationTime: int64(p.GetModificationTime()), BlockSize: int64(p.GetBlocksize()),
		Replication: int16(p.GetBlockReplication()), ChildrenNum: int(p.GetChildrenNum()), FileID: int64(p.GetFileId())}
}

func blockToProto(b hdfs.ExtendedBlock) *pb.ExtendedBlockProto {
	return &pb.ExtendedBlockProto{PoolId: proto.String(b.PoolID), BlockId: proto.Uint64(uint64(b.ID)),
		GenerationStamp: proto.Uint64(uint64(b.GenStamp)), NumBytes: proto.Uint64(uint64(b.NumBytes))}
}

func blockFromProto(p *pb.ExtendedBlockProto) hdfs.ExtendedBlock {
	return hdfs.ExtendedBlock{PoolID: p.GetPoolId(), Block: hdfs.Block{ID: int64(p.GetBlockId()), GenStamp: int64(p.GetGenerationStamp()), NumBytes: int64(p.GetNumBytes())}}
}

func optBlockFromProto(p *pb.ExtendedBlockProto) *hdfs.ExtendedBlock {
	if p == nil {
		return nil
	}
	b := blockFromProto(p)
	return &b
}

func datanodeIDToProto(d hdfs.DatanodeID) *pb.DatanodeIDProto {
	return &pb.DatanodeIDProto{IpAddr: proto.String(d.IP), HostName: proto.String(d.Hostname), DatanodeUuid: proto.String(d.UUID),
		XferPort: proto.Uint32(uint32(d.XferPort)), InfoPort: proto.Uint32(uint32(d.InfoPort)), IpcPort: proto.Uint32(uint32(d.IPCPort))}
}

func datanodeIDFromProto(p *pb.DatanodeIDProto) hdfs.DatanodeID {
	return hdfs.DatanodeID{UUID: p.GetDatanodeUuid(), IP: p.GetIpAddr(), Hostname: p.GetHostName(),
		XferPort: int(p.GetXferPort()), InfoPort: int(p.GetInfoPort()), IPCPort: int(p.GetIpcPort())}
}

var adminStates = map[hdfs.AdminState]pb.DatanodeInfoProto_AdminState{
	hdfs.AdminNormal:                 pb.DatanodeInfoProto_NORMAL,
	hdfs.AdminDecommissionInProgress: pb.DatanodeInfoProto_DECOMMISSION_INPROGRESS,
	hdfs.AdminDecommissioned:         pb.DatanodeInfoProto_DECOMMISSIONED,
}

func datanodeInfoToProto(d hdfs.DatanodeInfo) *pb.DatanodeInfoProto {
	p := &pb.DatanodeInfoProto{Id: datanodeIDToProto(d.DatanodeID), Capacity: proto.Uint64(uint64(d.Capacity)),
		DfsUsed: proto.Uint64(uint64(d.DFSUsed)), Remaining: proto.Uint64(uint64(d.Remaining)), BlockPoolUsed: proto.Uint64(uint64(d.BlockPoolUsed)),
		LastUpdate: proto.Uint64(uint64(d.LastUpdate)), XceiverCount: proto.Uint32(uint32(d.XceiverCount)),
		NonDfsUsed: proto.Uint64(uint64(d.NonDFSUsed)), AdminState: adminStates[d.AdminState].Enum()}
	if d.Location != "" {
		p.Location = proto.String(d.Location)
	}
	return p
}

func datanodeInfoFromProto(p *pb.DatanodeInfoProto) hdfs.DatanodeInfo {
	d := hdfs.DatanodeInfo{DatanodeID: datanodeIDFromProto(p.GetId()), Capacity: int64(p.GetCapacity()), DFSUsed: int64(p.GetDfsUsed()),
		NonDFSUsed: int64(p.GetNonDfsUsed()), Remaining: int64(p.GetRemaining()), BlockPoolUsed: int64(p.GetBlockPoolUsed()),
		LastUpdate: int64(p.GetLastUpdate()), XceiverCount: int(p.GetXceiverCount()), Location: p.GetLocation(), AdminState: hdfs.AdminNormal}
	for s, v := range adminStates {
		if v == p.GetAdminState() {
			d.AdminState = s
		}
	}
	return d
}

func tokenToProto(t *hdfs.Token) *pb.TokenProto {
	if t == nil {
		// Hadoop sends an empty token when block access tokens are off.
		return &pb.TokenProto{Identifier: []byte{}, Password: []byte{}, Kind: proto.String(""), Service: proto.String("")}
	}
	return &pb.TokenProto{Identifier: t.Identifier, Password: t.Password, Kind: proto.String(t.Kind), Service: proto.String(t.Service)}
}

func tokenFromProto(p *pb.TokenProto) *hdfs.Token {
	if p == nil || len(p.GetIdentifier()) == 0 && p.GetKind() == "" {
		return nil
	}
	return &hdfs.Token{Identifier: p.GetIdentifier(), Password: p.GetPassword(), Kind: p.GetKind(), Service: p.GetService()}
}

func locatedBlockToProto(b hdfs.LocatedBlock) *pb.LocatedBlockProto {
	p := &pb.LocatedBlockProto{B: blockToProto(b.Block), Offset: proto.Uint64(uint64(b.Offset)), Corrupt: proto.Bool(b.Corrupt),
		BlockToken: tokenToProto(b.Token), StorageIDs: b.StorageIDs}
	for _, l := range b.Locations {
		p.Locs = append(p.Locs, datanodeInfoToProto(l))
		p.IsCached = append(p.IsCached, false)
		p.StorageTypes = append(p.StorageTypes, pb.StorageTypeProto_DISK)
	}
	return p
}

func locatedBlockFromProto(p *pb.LocatedBlockProto) hdfs.LocatedBlock {
	b := hdfs.LocatedBlock{Block: blockFromProto(p.GetB()), Offset: int64(p.GetOffset()), Corrupt: p.GetCorrupt(),
		StorageIDs: p.GetStorageIDs(), Token: tokenFromProto(p.GetBlockToken())}
	for _, l := range p.GetLocs() {
		b.Locations = append(b.Locations, datanodeInfoFromProto(l))
	}
	return b
}

func locatedBlocksToProto(lb hdfs.LocatedBlocks) *pb.LocatedBlocksProto {
	p := &pb.LocatedBlocksProto{FileLength: proto.Uint64(uint64(lb.FileLength)), UnderConstruction: proto.Bool(lb.UnderConstruction),
		IsLastBlockComplete: proto.Bool(lb.LastBlockComplete)}
	for _, b := range lb.Blocks {
		p.Blocks = append(p.Blocks, locatedBlockToProto(b))
	}
	if lb.LastBlock != nil {
		p.LastBlock = locatedBlockToProto(*lb.LastBlock)
	}
	return p
}

func serverDefaultsToProto(d hdfs.ServerDefaults) *pb.FsServerDefaultsProto {
	ck := pb.ChecksumTypeProto_CHECKSUM_CRC32C
	switch d.ChecksumType {
	case "CRC32":
		ck = pb.ChecksumTypeProto_CHECKSUM_CRC32
	case "NULL":
		ck = pb.ChecksumTypeProto_CHECKSUM_NULL
	}
	return &pb.FsServerDefaultsProto{BlockSize: proto.Uint64(uint64(d.BlockSize)), BytesPerChecksum: proto.Uint32(uint32(d.BytesPerChecksum)),
		WritePacketSize: proto.Uint32(uint32(d.WritePacketSize)), Replication: proto.Uint32(uint32(d.Replication)),
		FileBufferSize: proto.Uint32(uint32(d.FileBufferSize)), TrashInterval: proto.Uint64(uint64(d.TrashInterval)), ChecksumType: ck.Enum()}
}
