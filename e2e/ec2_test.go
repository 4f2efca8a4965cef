package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEC2TargetProvisionsThenAppliesThroughTheBastion runs target ec2 end
// to end with everything but AWS real: a stand-in hactl-ec2 "provisions"
// by writing the host list a real up writes (the instances' private
// addresses, no public ones, the bastion), here four namespace hosts this
// machine cannot reach and a fifth as the bastion. hactl apply shows the
// EC2 changes, runs up, renders with the instances' addresses and applies
// over SSH through the bastion; plan then finds nothing to do; destroy
// --purge-data stops the daemons, then removes the instances.
func TestEC2TargetProvisionsThenAppliesThroughTheBastion(t *testing.T) {
	lab := newLab(t, 5)
	bastion := lab.Host("h5")
	spec := DefaultSpec()
	spec.Hosts = 4
	dir := filepath.Join(t.TempDir(), "cluster")
	writeSSHCluster(t, dir, lab, spec)
	src, err := os.ReadFile(filepath.Join(dir, "cluster.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	// The hosts lose their addresses (the instances give them) and the
	// target becomes ec2: four masters behind a bastion hactl "created".
	hcl := regexp.MustCompile(`host "(h\d)" \{ address = "[^"]*" \}`).ReplaceAllString(string(src), `host "$1" {}`)
	hcl = strings.Replace(hcl, `target "ssh" {}`, `target "ec2" {
  region                = "eu-west-1"
  ssh_cidrs             = ["192.0.2.0/24"]
  public_ip             = false
  bastion_instance_type = "t3.micro"
  instance_group "master" {
    instance_type = "m5.xlarge"
    hosts         = ["h1", "h2", "h3", "h4"]
  }
}`, 1)
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, h := range lab.Hosts[:4] {
		if err := lab.Isolate(h.Name); err != nil {
			t.Fatal(err)
		}
	}

	// What up would write, and a stand-in that writes it.
	hosts := map[string]any{}
	for i, h := range lab.Hosts[:4] {
		hosts[h.Name] = map[string]string{"address": h.Addr, "instance_id": fmt.Sprintf("i-%d", i+1), "group": "master", "zone": "eu-west-1a"}
	}
	list, _ := json.Marshal(map[string]any{"hosts": hosts, "bastion": bastion.Addr})
	tmp := t.TempDir()
	listFile, calls := filepath.Join(tmp, "list.json"), filepath.Join(tmp, "calls")
	if err := os.WriteFile(listFile, list, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, ".hactl", "ec2-hosts.json")
	script := fmt.Sprintf(`#!/bin/sh
echo "$1" >> %[1]q
case "$1" in
preview) if [ -f %[2]q ]; then echo '[]'; else echo '[{"op":"create","type":"aws:ec2/instance:Instance","name":"hacluster-h1","host":"h1","role":"master"}]'; fi ;;
up) mkdir -p %[3]q && cp %[4]q %[2]q && cat %[2]q ;;
destroy) rm -f %[2]q ;;
esac
`, calls, state, filepath.Dir(state), listFile)
	fake := filepath.Join(tmp, "hactl-ec2")
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &Hactl{Bin: hactlBin, Env: []string{"HACTL_EC2=" + fake}}
	t.Cleanup(func() {
		if r := h.Run(context.Background(), 90*time.Second, "destroy", "--auto-approve", "--purge-data", dir); r.Code != 0 {
			t.Logf("cleanup destroy: %s", r)
		}
	})
	ctx := context.Background()

	r := h.Run(ctx, 6*time.Minute, "apply", "--auto-approve", dir)
	if r.Code != 0 {
		t.Fatalf("apply: %s", r)
	}
	if !strings.Contains(r.Stdout, "EC2 (region eu-west-1): Pulumi will make these changes first:") {
		t.Errorf("apply did not show the EC2 changes:\n%s", r.Stdout)
	}
	r = h.Run(ctx, 2*time.Minute, "plan", "--detailed-exitcode", dir)
	if r.Code != 0 || !strings.Contains(r.Stdout, "No changes. The cluster matches the configuration.") {
		t.Fatalf("plan after apply: %s", r)
	}
	// The daemons were configured with the instances' addresses.
	conf, err := lab.Host("h2").Exec(ctx, "cat /etc/hactl/hdfs-site.xml")
	if err != nil || !strings.Contains(conf, lab.Host("h2").Addr+":8485") {
		t.Errorf("h2's hdfs-site.xml does not name the instances' addresses (%v):\n%s", err, conf)
	}
	r = h.Run(ctx, 2*time.Minute, "destroy", "--auto-approve", "--purge-data", dir)
	if r.Code != 0 || !strings.Contains(r.Stdout, "The EC2 resources are removed.") {
		t.Fatalf("destroy: %s", r)
	}
	got, _ := os.ReadFile(calls)
	if c := strings.Join(strings.Fields(string(got)), " "); c != "preview up preview destroy" {
		t.Errorf("hactl-ec2 calls: %q, want preview up (apply), preview (plan), destroy", c)
	}
}
