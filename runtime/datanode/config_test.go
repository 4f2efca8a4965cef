package datanode

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
)

func TestConfigFromHadoop(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "cluster.secret")
	os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef"), 0o600)
	c := hadoopconf.New()
	for k, v := range map[string]string{
		"dfs.datanode.data.dir":                "[DISK]file:///data/1, /data/2",
		"dfs.datanode.address":                 "127.0.1.5:9866",
		"dfs.heartbeat.interval":               "5",
		"dfs.blockreport.intervalMsec":         "60000",
		"dfs.datanode.scan.period.hours":       "-1",
		"dfs.block.access.token.enable":        "true",
		"dfs.nameservices":                     "ns1,ns2",
		"dfs.ha.namenodes.ns1":                 "nn1,nn2",
		"dfs.namenode.http-address.ns1.nn1":    "127.0.1.1:9870",
		"dfs.namenode.http-address.ns1.nn2":    "127.0.1.2:9870",
		"dfs.ha.namenodes.ns2":                 "a",
		"dfs.namenode.http-address.ns2.a":      "127.0.1.3:9870",
		"dfs.namenode.rpc-address.ns2.a":       "127.0.1.3:8020",
		"dfs.datanode.balance.bandwidthPerSec": "10m",
		"hadoop.hdfs.configuration.version":    "1",
		auth.ConfKey:                           secret,
	} {
		c.Set(k, v)
	}
	o, err := ConfigFromHadoop(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.DataDirs, ",") != "/data/1,/data/2" || o.IP != "127.0.1.5" || o.HTTPAddr != "0.0.0.0:9864" || o.IPCAddr != "0.0.0.0:9867" {
		t.Fatalf("dirs/addresses: %+v", o)
	}
	if o.Heartbeat != 5*time.Second || o.BlockReport != time.Minute || o.ScanPeriod >= 0 || !o.BlockTokens || o.BytesPerChecksum != 512 {
		t.Fatalf("intervals: %+v", o)
	}
	if len(o.NameNodes) != 3 || o.NameNodes[1].Nameservice != "ns1" || o.NameNodes[1].ID != "nn2" || o.NameNodes[2].Addr != "127.0.1.3:9870" || o.NameNodes[2].RPCAddr != "127.0.1.3:8020" {
		t.Fatalf("NameNodes %+v", o.NameNodes)
	}
	if o.BalancerBandwidth != 10<<20 || o.ConfigVersion != "core-UNSPECIFIED,hdfs-1" || !o.PermissionsEnabled || o.Supergroup != "supergroup" || o.IPCHandlers != 10 {
		t.Fatalf("IPC admin answers: %+v", o)
	}
	c.Set("dfs.datanode.data.dir", "relative/dir")
	if _, err := ConfigFromHadoop(c); err == nil {
		t.Fatal("a relative data dir was accepted")
	}
}

func TestHTTPStatusAndJMX(t *testing.T) {
	nn, dns := startCluster(t, 1)
	_ = nn
	dn := dns[0]
	dn.SetWebHDFS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "data path") }))
	get := func(client *http.Client, path string) (int, string) {
		resp, err := client.Get("http://" + dn.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	signed := &http.Client{Transport: &auth.Transport{Secret: []byte("cluster-secret")}}
	if code, _ := get(http.DefaultClient, "/dn/status"); code != http.StatusUnauthorized {
		t.Fatalf("unsigned /dn/status: %d", code)
	}
	code, body := get(signed, "/dn/status")
	var st Status
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil || !st.Ready || st.Nameservices[0].NameNodes["nn1"] != "registered" || st.Nameservices[0].Active != "nn1" {
		t.Fatalf("/dn/status %d %s", code, body)
	}
	_, body = get(http.DefaultClient, "/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo")
	if !strings.Contains(body, `"NamenodeAddresses" : "{\"fake\":\"`+testPool) && !strings.Contains(body, `\"fake\":\"`+testPool+`\"`) {
		t.Fatalf("DataNodeInfo lacks the registered NameNode: %s", body)
	}
	_, body = get(http.DefaultClient, "/jmx?qry=Hadoop:service=DataNode,name=FSDatasetState")
	for _, want := range []string{"Capacity", "DfsUsed", "Remaining", "NumFailedVolumes"} {
		if !strings.Contains(body, want) {
			t.Fatalf("FSDatasetState lacks %s: %s", want, body)
		}
	}
	if _, body = get(http.DefaultClient, "/prom"); !strings.Contains(body, "data_node_activity_bytes_written") {
		t.Fatalf("/prom: %s", body)
	}
	if _, body = get(http.DefaultClient, "/webhdfs/v1/x?op=OPEN"); body != "data path" {
		t.Fatalf("webhdfs mount: %q", body)
	}
}

// /dn/status verifies the Host a caller signed: the DataNode's listen
// address, advertised IP or hostname; any other is refused.
func TestSignedStatusByHostname(t *testing.T) {
	_, dns := startClusterWith(t, 1, func(o *Options) { o.Hostname = "dn1.example" })
	dn := dns[0]
	signed := &http.Client{Transport: &auth.Transport{Secret: []byte("cluster-secret")}}
	port := strings.TrimPrefix(dn.HTTPAddr(), "127.0.0.1:")
	for host, want := range map[string]int{
		dn.HTTPAddr():             http.StatusOK,
		"dn1.example:" + port:     http.StatusOK,
		"another.example:" + port: http.StatusUnauthorized,
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+dn.HTTPAddr()+"/dn/status", nil)
		req.Host = host
		resp, err := signed.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("signed for %s: %s, want %d", host, resp.Status, want)
		}
	}
}
