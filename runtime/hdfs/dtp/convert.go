package dtp

import (
	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// BlockProto converts a block to its protobuf form.
func BlockProto(b hdfs.ExtendedBlock) *hadooppb.ExtendedBlockProto {
	return &hadooppb.ExtendedBlockProto{PoolId: proto.String(b.PoolID), BlockId: proto.Uint64(uint64(b.ID)),
		GenerationStamp: proto.Uint64(uint64(b.GenStamp)), NumBytes: proto.Uint64(uint64(b.NumBytes))}
}

// BlockFromProto converts back.
func BlockFromProto(p *hadooppb.ExtendedBlockProto) hdfs.ExtendedBlock {
	return hdfs.ExtendedBlock{PoolID: p.GetPoolId(), Block: hdfs.Block{ID: int64(p.GetBlockId()),
		GenStamp: int64(p.GetGenerationStamp()), NumBytes: int64(p.GetNumBytes())}}
}

// TokenProto converts a block access token; nil gives Hadoop's empty token
// (what a client sends when dfs.block.access.token.enable is false).
func TokenProto(t *hdfs.Token) *hadooppb.TokenProto {
	if t == nil {
		return &hadooppb.TokenProto{Identifier: []byte{}, Password: []byte{}, Kind: proto.String(""), Service: proto.String("")}
	}
	return &hadooppb.TokenProto{Identifier: t.Identifier, Password: t.Password, Kind: proto.String(t.Kind), Service: proto.String(t.Service)}
}

// TokenFromProto converts back; an empty token is nil.
func TokenFromProto(p *hadooppb.TokenProto) *hdfs.Token {
	if p == nil || (len(p.GetIdentifier()) == 0 && len(p.GetPassword()) == 0 && p.GetKind() == "") {
		return nil
	}
	return &hdfs.Token{Identifier: p.GetIdentifier(), Password: p.GetPassword(), Kind: p.GetKind(), Service: p.GetService()}
}

var adminStates = map[hdfs.AdminState]hadooppb.DatanodeInfoProto_AdminState{
	hdfs.AdminNormal:                 hadooppb.DatanodeInfoProto_NORMAL,
	hdfs.AdminDecommissionInProgress: hadooppb.DatanodeInfoProto_DECOMMISSION_INPROGRESS,
	hdfs.AdminDecommissioned:         hadooppb.DatanodeInfoProto_DECOMMISSIONED,
}

// DatanodeIDProto converts a DataNode identity.
func DatanodeIDProto(d hdfs.DatanodeID) *hadooppb.DatanodeIDProto {
	return &hadooppb.DatanodeIDProto{IpAddr: proto.String(d.IP), HostName: proto.String(d.Hostname), DatanodeUuid: proto.String(d.UUID),
		XferPort: proto.Uint32(uint32(d.XferPort)), InfoPort: proto.Uint32(uint32(d.InfoPort)), IpcPort: proto.Uint32(uint32(d.IPCPort))}
}

// DatanodeInfoProto converts a DataNode as the NameNode describes it.
func DatanodeInfoProto(d hdfs.DatanodeInfo) *hadooppb.DatanodeInfoProto {
	p := &hadooppb.DatanodeInfoProto{Id: DatanodeIDProto(d.DatanodeID),
		Capacity: proto.Uint64(uint64(d.Capacity)), DfsUsed: proto.Uint64(uint64(d.DFSUsed)), Remaining: proto.Uint64(uint64(d.Remaining)),
		BlockPoolUsed: proto.Uint64(uint64(d.BlockPoolUsed)), LastUpdate: proto.Uint64(uint64(d.LastUpdate)),
		XceiverCount: proto.Uint32(uint32(d.XceiverCount)), NonDfsUsed: proto.Uint64(uint64(d.NonDFSUsed))}
	if d.Location != "" {
		p.Location = proto.String(d.Location)
	}
	if s, ok := adminStates[d.AdminState]; ok {
		p.AdminState = s.Enum()
	}
	return p
}

// DatanodeInfoFromProto converts back.
func DatanodeInfoFromProto(p *hadooppb.DatanodeInfoProto) hdfs.DatanodeInfo {
	id := p.GetId()
	d := hdfs.DatanodeInfo{
		DatanodeID: hdfs.DatanodeID{UUID: id.GetDatanodeUuid(), IP: id.GetIpAddr(), Hostname: id.GetHostName(),
			XferPort: int(id.GetXferPort()), InfoPort: int(id.GetInfoPort()), IPCPort: int(id.GetIpcPort())},
		Capacity: int64(p.GetCapacity()), DFSUsed: int64(p.GetDfsUsed()), NonDFSUsed: int64(p.GetNonDfsUsed()),
		Remaining: int64(p.GetRemaining()), BlockPoolUsed: int64(p.GetBlockPoolUsed()), LastUpdate: int64(p.GetLastUpdate()),
		XceiverCount: int(p.GetXceiverCount()), Location: p.GetLocation(), AdminState: hdfs.AdminNormal,
	}
	for a, s := range adminStates {
		if s == p.GetAdminState() {
			d.AdminState = a
		}
	}
	return d
}

// ClientHeader is the header of a client's operation.
func ClientHeader(b hdfs.ExtendedBlock, token *hdfs.Token, clientName string) *hadooppb.ClientOperationHeaderProto {
	return &hadooppb.ClientOperationHeaderProto{
		BaseHeader: &hadooppb.BaseHeaderProto{Block: BlockProto(b), Token: TokenProto(token)},
		ClientName: proto.String(clientName),
	}
}

// CRC32C is the checksum every hactl writer requests and every DataNode
// stores (dfs.checksum.type CRC32C) with bytesPerChecksum bytes a chunk.
func CRC32C(bytesPerChecksum int) *hadooppb.ChecksumProto {
	return &hadooppb.ChecksumProto{Type: hadooppb.ChecksumTypeProto_CHECKSUM_CRC32C.Enum(), BytesPerChecksum: proto.Uint32(uint32(bytesPerChecksum))}
}
