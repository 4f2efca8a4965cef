package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/targets"
)

// recordedChanges is what hactl-ec2 preview answers for the recorded
// preview of ec2/stack/testdata/preview-replace-master.json (a master's
// instance replaced, a core instance deleted, one created).
const recordedChanges = `[
 {"op": "update", "type": "aws:ec2/securityGroup:SecurityGroup", "name": "ha-nn-uri", "keys": ["tags", "tagsAll"]},
 {"op": "create", "type": "aws:ec2/securityGroupRule:SecurityGroupRule", "name": "ha-nn-uri-member-9864"},
 {"op": "replace", "type": "aws:ec2/instance:Instance", "name": "ha-nn-uri-master2", "host": "master2", "role": "master", "keys": ["subnetId"]},
 {"op": "update", "type": "aws:ec2/instance:Instance", "name": "ha-nn-uri-core1", "host": "core1", "role": "core", "keys": ["instanceType"]},
 {"op": "delete", "type": "aws:ec2/instance:Instance", "name": "ha-nn-uri-core4", "host": "core4", "role": "core"},
 {"op": "create", "type": "aws:ec2/instance:Instance", "name": "ha-nn-uri-core-4", "host": "core-4"}
]`

// fakeEC2 puts a stand-in for hactl-ec2 in place ($HACTL_EC2): it logs its
// arguments and answers preview with changes. It returns the example's dir
// and the log.
func fakeEC2(t *testing.T, changes string) (dir, log string) {
	t.Helper()
	tmp := t.TempDir()
	log = filepath.Join(tmp, "calls")
	preview := filepath.Join(tmp, "preview.json")
	if err := os.WriteFile(preview, []byte(changes), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"$1\" >> '" + log + "'\n[ \"$1\" = preview ] && cat '" + preview + "'\nexit 0\n"
	bin := filepath.Join(tmp, "hactl-ec2")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ec2BinaryEnv, bin)
	src, err := os.ReadFile("../examples/ec2/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return writeHCL(t, string(src)), log
}

func calls(t *testing.T, log string) string {
	data, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(data)), " ")
}

func TestEC2PlanShowsResourcesBeforeHostSteps(t *testing.T) {
	dir, log := fakeEC2(t, recordedChanges)
	code, out, errw := hactlRun(t, "plan", "--detailed-exitcode", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (changes)\n%s\n%s", code, out, errw)
	}
	for _, want := range []string{
		"EC2 (region eu-west-1): Pulumi will make these changes first:",
		"+ create aws:ec2/securityGroupRule:SecurityGroupRule ha-nn-uri-member-9864\n",
		"~ update aws:ec2/instance:Instance ha-nn-uri-core1 host core1 (core); changes instanceType",
		"    ~ update  aws:ec2/securityGroup:SecurityGroup ha-nn-uri          changes tags, tagsAll",
		"  -/+ replace aws:ec2/instance:Instance ha-nn-uri-master2          host master2 (master); replaced for subnetId; the data on its volumes is LOST; replace host: the new instance takes the journal from its peers and bootstrapStandby from a formatted NameNode, never a format",
		"    - delete  aws:ec2/instance:Instance ha-nn-uri-core4            host core4 (core); the data on its volumes is LOST",
		"    + create  aws:ec2/instance:Instance ha-nn-uri-core-4           host core-4",
		"EC2: 2 to create, 2 to change, 1 to replace, 1 to delete.",
		"2 of them lose a host's data: hactl apply makes them only with --purge-data.",
		"Host steps: planned once the instances exist (core1, core2, core3, master1, master2, master3 have none yet)",
	} {
		// Columns are padded to the longest resource: compare words.
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if c := calls(t, log); c != "preview" {
		t.Errorf("hactl-ec2 calls: %q, want only a preview", c)
	}
}

func TestEC2ApplyRefusesDataLossWithoutPurgeData(t *testing.T) {
	dir, log := fakeEC2(t, recordedChanges)
	code, out, errw := hactlRun(t, "apply", "--auto-approve", dir)
	if code != 1 || !strings.Contains(errw, "2 EC2 changes replace or remove instances") || !strings.Contains(errw, "--purge-data") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errw)
	}
	if c := calls(t, log); c != "preview" {
		t.Errorf("hactl-ec2 calls: %q: up ran although the changes lose data", c)
	}
	// A dry run shows the changes and provisions nothing.
	code, out, errw = hactlRun(t, "apply", "--dry-run", "--purge-data", dir)
	if code != 0 || !strings.Contains(out, "Dry run: no EC2 resource is created") || strings.Contains(out, "hactl apply makes them only with --purge-data") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errw)
	}
	if c := calls(t, log); c != "preview preview" {
		t.Errorf("hactl-ec2 calls after the dry run: %q", c)
	}
}

func TestEC2ApplyProvisionsFirst(t *testing.T) {
	dir, log := fakeEC2(t, `[{"op": "create", "type": "aws:ec2/instance:Instance", "name": "ha-nn-uri-master1", "host": "master1", "role": "master"}]`)
	// The stand-in writes no host list, so after up the hosts still have no
	// instance: apply stops there instead of reaching for them.
	code, out, errw := hactlRun(t, "apply", "--auto-approve", dir)
	if code != 0 || !strings.Contains(out, "Host steps: planned once the instances exist") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errw)
	}
	if c := calls(t, log); c != "preview up" {
		t.Errorf("hactl-ec2 calls: %q, want preview then up", c)
	}
}

func TestEC2DestroyRemovesInstancesOnlyWithPurgeData(t *testing.T) {
	dir, log := fakeEC2(t, `[]`)
	code, out, errw := hactlRun(t, "destroy", "--auto-approve", dir)
	if code != 0 || !strings.Contains(out, "The EC2 instances stay: removing them deletes the data on their volumes") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errw)
	}
	if c := calls(t, log); c != "" {
		t.Errorf("hactl-ec2 ran %q without --purge-data", c)
	}
	code, out, errw = hactlRun(t, "destroy", "--auto-approve", "--purge-data", dir)
	if code != 0 || !strings.Contains(out, "The EC2 resources are removed.") {
		t.Fatalf("purge: exit %d\n%s\n%s", code, out, errw)
	}
	if c := calls(t, log); c != "destroy" {
		t.Errorf("hactl-ec2 calls: %q, want destroy", c)
	}
}

func TestEC2MissingProvisionerSaysHowToBuildIt(t *testing.T) {
	dir, _ := fakeEC2(t, `[]`)
	t.Setenv(ec2BinaryEnv, "")
	t.Setenv("PATH", t.TempDir())
	code, _, errw := hactlRun(t, "plan", dir)
	if code != 1 || !strings.Contains(errw, "make build-ec2") {
		t.Errorf("exit %d: %s", code, errw)
	}
}

func TestEC2RenderUsesTheProvisionedAddresses(t *testing.T) {
	dir, _ := fakeEC2(t, `[]`)
	list := `{"hosts": {"master1": {"address": "10.42.0.11", "public_address": "203.0.113.11", "instance_id": "i-1", "group": "master", "zone": "eu-west-1a"}}}`
	if err := os.MkdirAll(filepath.Join(dir, ".hactl"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".hactl", "ec2-hosts.json"), []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "conf")
	code, stdout, errw := hactlRun(t, "render", "--host", "master1", "--out", out, dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, errw)
	}
	hdfs, err := os.ReadFile(filepath.Join(out, "hdfs-site.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hdfs), "10.42.0.11:8020") || strings.Contains(string(hdfs), "203.0.113.11") {
		t.Errorf("hdfs-site.xml does not name master1's private address:\n%s", hdfs)
	}
}

func TestEC2PlanJSONCarriesTheEC2Changes(t *testing.T) {
	dir, _ := fakeEC2(t, recordedChanges)
	code, out, errw := hactlRun(t, "plan", "--format", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errw)
	}
	var got struct {
		Changes bool `json:"changes"`
		Steps   []any
		EC2     struct {
			Changes       []targets.EC2Change `json:"changes"`
			Unprovisioned []string            `json:"unprovisioned"`
		} `json:"ec2"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("plan --format json is not JSON: %v\n%s", err, out)
	}
	if !got.Changes || len(got.Steps) != 0 || len(got.EC2.Changes) != 6 || got.EC2.Changes[2].Host != "master2" || len(got.EC2.Unprovisioned) != 6 {
		t.Errorf("plan JSON = %+v", got)
	}
}

// hactl fs with an ec2 cluster's HCL as its configuration calls the
// provisioned instances' addresses, and says which hosts are not there yet.
func TestEC2FsConfigUsesTheProvisionedAddresses(t *testing.T) {
	dir, _ := fakeEC2(t, `[]`)
	write := func(hosts ...string) {
		t.Helper()
		var entries []string
		for i, h := range hosts {
			entries = append(entries, fmt.Sprintf(`%q: {"address": "10.42.0.%d", "instance_id": "i-%d", "group": "g", "zone": "eu-west-1a"}`, h, 11+i, i))
		}
		if err := os.MkdirAll(filepath.Join(dir, ".hactl"), 0o700); err != nil {
			t.Fatal(err)
		}
		list := `{"hosts": {` + strings.Join(entries, ", ") + `}}`
		if err := os.WriteFile(filepath.Join(dir, ".hactl", "ec2-hosts.json"), []byte(list), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("master1")
	if _, _, err := loadClientConfig(dir, nil); err == nil || !strings.Contains(err.Error(), "master2") || !strings.Contains(err.Error(), "not provisioned") {
		t.Fatalf("a partly provisioned cluster: %v", err)
	}
	write("master1", "master2", "master3", "core1", "core2", "core3")
	conf, c, err := loadClientConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c == nil || !isEC2(c) {
		t.Fatalf("the cluster was not returned: %+v", c)
	}
	found := false
	for _, ns := range strings.Split(conf.Get("dfs.nameservices", ""), ",") {
		for _, nn := range strings.Split(conf.Get("dfs.ha.namenodes."+ns, ""), ",") {
			if strings.HasPrefix(conf.Get("dfs.namenode.http-address."+ns+"."+nn, ""), "10.42.0.") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no NameNode HTTP address is a provisioned instance's")
	}
}
