package hdfs

import (
	"reflect"
	"testing"

	"github.com/hactl/hactl/runtime/webhdfs"
)

func TestBlockLocations(t *testing.T) {
	lbs := LocatedBlocks{Blocks: []LocatedBlock{{Offset: 128, Block: ExtendedBlock{Block: Block{ID: 1, NumBytes: 64}},
		Locations: []DatanodeInfo{{DatanodeID: DatanodeID{IP: "127.0.1.1", Hostname: "n1", XferPort: 9866}, Location: "/rack1"},
			{DatanodeID: DatanodeID{IP: "127.0.1.2", XferPort: 9866}}}}}}
	want := []webhdfs.BlockLocation{{CachedHosts: []string{}, Hosts: []string{"n1", "127.0.1.2"}, Length: 64, Offset: 128,
		Names: []string{"127.0.1.1:9866", "127.0.1.2:9866"}, StorageTypes: []string{"DISK", "DISK"},
		TopologyPaths: []string{"/rack1/127.0.1.1:9866", "/default-rack/127.0.1.2:9866"}}}
	if got := lbs.BlockLocations(); !reflect.DeepEqual(got, want) {
		t.Errorf("BlockLocations = %+v, want %+v", got, want)
	}
}
