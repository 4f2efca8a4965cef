package targets

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hactl/hactl/schema"
)

// EC2HostsFile is the file under the ec2 target's state dir where hactl-ec2
// leaves the host list of the last provisioning (written after every up,
// removed after destroy). Everything else in hactl reads the instances'
// addresses from it, never from AWS.
const EC2HostsFile = "ec2-hosts.json"

// EC2Instance is one provisioned instance as the host list records it.
type EC2Instance struct {
	// Address is the instance's private address: what the cluster's
	// configuration names and the daemons bind.
	Address string `json:"address"`
	// PublicAddress is where SSH connects ("" for instances without a
	// public address: they are reached through the bastion).
	PublicAddress string `json:"public_address,omitempty"`
	InstanceID    string `json:"instance_id"`
	Group         string `json:"group"`
	Zone          string `json:"zone"`
}

// EC2Change is one resource an up would create, update, replace or delete
// (what hactl-ec2 preview reports and plan shows).
type EC2Change struct {
	Op   string `json:"op"`   // EC2Create, EC2Update, EC2Replace, EC2Delete
	Type string `json:"type"` // Pulumi type token, aws:ec2/instance:Instance
	Name string `json:"name"` // the resource's name in the stack
	// Host and Role are set for a host's instance.
	Host string `json:"host,omitempty"`
	Role string `json:"role,omitempty"`
	// Keys are the properties that change (update) or force the
	// replacement (replace).
	Keys []string `json:"keys,omitempty"`
}

// EC2Change operations.
const (
	EC2Create  = "create"
	EC2Update  = "update"
	EC2Replace = "replace"
	EC2Delete  = "delete"
)

// LosesData says whether the change takes an instance's volumes (root
// and data volumes are deleted with the instance): a host's data goes
// with it.
func (ch EC2Change) LosesData() bool {
	return ch.Type == "aws:ec2/instance:Instance" && ch.Host != "" && (ch.Op == EC2Replace || ch.Op == EC2Delete)
}

// EC2HostList is what hactl-ec2 provisioned: every instance by host name
// and, when hactl created one, the bastion's public address (reached as
// the hosts' SSH user).
type EC2HostList struct {
	Hosts   map[string]EC2Instance `json:"hosts"`
	Bastion string                 `json:"bastion,omitempty"`
}

// EC2HostsPath is where the host list of c lives.
func EC2HostsPath(c *schema.Cluster) string {
	return filepath.Join(c.EC2StateDir(), EC2HostsFile)
}

// ReadEC2HostList reads the host list of c; (nil, nil) when nothing was
// provisioned yet.
func ReadEC2HostList(c *schema.Cluster) (*EC2HostList, error) {
	data, err := os.ReadFile(EC2HostsPath(c))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the ec2 host list: %w", err)
	}
	var l EC2HostList
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("read the ec2 host list %s: %w", EC2HostsPath(c), err)
	}
	return &l, nil
}

// WriteEC2HostList replaces the host list of c atomically.
func WriteEC2HostList(c *schema.Cluster, l *EC2HostList) error {
	p := EC2HostsPath(c)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("write the ec2 host list: %w", err)
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("write the ec2 host list: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write the ec2 host list: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write the ec2 host list: %w", err)
	}
	return nil
}

// ApplyEC2HostList gives each host of an instance group the private address
// of its instance (a host with an address in the configuration keeps it:
// the configuration wins) and returns the hosts of instance groups that have
// no instance yet, sorted: they cannot be reached until provisioned.
func ApplyEC2HostList(c *schema.Cluster, l *EC2HostList) (unprovisioned []string) {
	e := c.Target.EC2
	for _, h := range c.Hosts {
		if e.InstanceGroupOf(h.Name) == nil || h.Address != "" {
			continue
		}
		if l != nil {
			if in, ok := l.Hosts[h.Name]; ok && in.Address != "" {
				h.Address = in.Address
				continue
			}
		}
		unprovisioned = append(unprovisioned, h.Name)
	}
	sort.Strings(unprovisioned)
	return unprovisioned
}

// ec2SSH adjusts the SSH settings of an instance: SSH connects to its public
// address when it has one, else through the bastion hactl created (unless
// the configuration names its own).
func ec2SSH(cfg SSHConfig, l *EC2HostList, host string) SSHConfig {
	if l == nil {
		return cfg
	}
	in, ok := l.Hosts[host]
	if !ok {
		return cfg
	}
	switch {
	case in.PublicAddress != "" && cfg.Bastion == "":
		cfg.ConnectAddress = in.PublicAddress
	case in.PublicAddress == "" && cfg.Bastion == "":
		cfg.Bastion = l.Bastion
	}
	return cfg
}
