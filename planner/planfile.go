package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// PlanFileVersion is the version of the saved plan format this build writes
// and the only one it reads.
const PlanFileVersion = 1

// planFileMagic tells a saved plan from an HCL directory or file.
const planFileMagic = "hactl-plan"

// ErrStalePlan is returned when a saved plan no longer matches the live
// state or the configuration.
var ErrStalePlan = errors.New("the live state changed since the plan was made; run hactl plan again")

// PlanFile is a saved plan: the steps plus what they were computed from.
type PlanFile struct {
	Magic   string `json:"magic"`
	Version int    `json:"version"`
	// ConfigPath is the absolute path the configuration was loaded from, and
	// Vars/VarFiles the variables given, so apply can load it again.
	ConfigPath string   `json:"config_path"`
	Vars       []string `json:"vars,omitempty"`
	VarFiles   []string `json:"var_files,omitempty"`
	// ConfigFingerprint hashes the rendered files and the options;
	// ObservedFingerprint the facts of the live state the plan used.
	ConfigFingerprint   string       `json:"config_fingerprint"`
	ObservedFingerprint string       `json:"observed_fingerprint"`
	Options             Options      `json:"options"`
	HactlVersion        string       `json:"hactl_version,omitempty"`
	Plan                *ClusterPlan `json:"plan"`
}

// Encode writes the plan file as JSON.
func (f *PlanFile) Encode(w io.Writer) error {
	out := *f
	out.Magic, out.Version = planFileMagic, PlanFileVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("encode plan file: %w", err)
	}
	return nil
}

// DecodePlanFile reads a plan file written by Encode.
func DecodePlanFile(r io.Reader) (*PlanFile, error) {
	var f PlanFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode plan file: %w", err)
	}
	if f.Magic != planFileMagic {
		return nil, fmt.Errorf("decode plan file: not a hactl plan file")
	}
	if f.Version != PlanFileVersion {
		return nil, fmt.Errorf("decode plan file: version %d, this hactl reads version %d: run hactl plan again", f.Version, PlanFileVersion)
	}
	if f.Plan == nil {
		return nil, fmt.Errorf("decode plan file: no plan in it")
	}
	return &f, nil
}

// LooksLikePlanFile reports whether data starts like a saved plan (so apply
// can take either a configuration path or a plan file).
func LooksLikePlanFile(data []byte) bool {
	data = bytes.TrimSpace(data)
	return bytes.HasPrefix(data, []byte("{")) && bytes.Contains(data[:min(len(data), 200)], []byte(`"magic": "`+planFileMagic+`"`))
}

// CheckFresh returns ErrStalePlan when the configuration or the live state
// differs from when the plan was made.
func (f *PlanFile) CheckFresh(d *Desired, obs *Observed) error {
	if got := ConfigFingerprint(d, f.Options); got != f.ConfigFingerprint {
		return fmt.Errorf("%w (the configuration or the hactl binary changed)", ErrStalePlan)
	}
	if got := ObservedFingerprint(obs); got != f.ObservedFingerprint {
		return ErrStalePlan
	}
	return nil
}

// ConfigFingerprint hashes every host's rendered files, addresses and the
// plan options (runtime binary, force-format).
func ConfigFingerprint(d *Desired, opts Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "runtime=%s\nforce=%v\n", opts.RuntimeSHA256, opts.ForceFormat)
	if c := d.Cluster; c != nil {
		if c.Target != nil {
			fmt.Fprintf(&b, "target=%s\n", c.Target.Kind)
		}
		for _, h := range c.Hosts {
			fmt.Fprintf(&b, "host %s %s\n", h.Name, h.Address)
		}
	}
	for _, h := range sortedKeys(d.Hosts) {
		for _, f := range sortedKeys(d.Hosts[h].SHA256) {
			fmt.Fprintf(&b, "%s %s %s\n", h, f, d.Hosts[h].SHA256[f])
		}
	}
	return SHA256Hex([]byte(b.String()))
}

// ObservedFingerprint hashes the facts of the live state a plan depends on.
// Counters that move on a healthy cluster (txids, epochs, start times,
// health) are left out, so a busy cluster does not invalidate every plan;
// a restart, a failover, a format or a config change does.
func ObservedFingerprint(obs *Observed) string {
	if obs == nil {
		obs = &Observed{}
	}
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	for _, name := range sortedKeys(obs.Hosts) {
		h := obs.Hosts[name]
		if h == nil {
			continue
		}
		add("host %s reachable=%v runtime=%s", name, h.Reachable, h.RuntimeSHA256)
		for _, f := range sortedKeys(h.ConfigSHA256) {
			add("host %s file %s %s", name, f, h.ConfigSHA256[f])
		}
		add("host %s zookeeper_installed=%v", name, h.ZooKeeperInstalled)
		for _, d := range sortedKeys(h.Daemons) {
			o := h.Daemons[d]
			add("host %s daemon %s running=%v pid=%d config=%s runtime=%s", name, d, o.Running, o.PID, o.ConfigSHA256, o.RuntimeSHA256)
		}
		for _, k := range sortedKeys(h.NameNodes) {
			o := h.NameNodes[k]
			add("host %s nn %s formatted=%v data=%v cid=%s nsid=%d ha=%s", name, k, o.Formatted, o.HasData, o.ClusterID, o.NamespaceID, o.HAState)
		}
		for _, k := range sortedKeys(h.JournalNodes) {
			o := h.JournalNodes[k]
			add("host %s jn %s formatted=%v data=%v cid=%s nsid=%d", name, k, o.Formatted, o.HasData, o.ClusterID, o.NamespaceID)
		}
	}
	if z := obs.ZooKeeper; z != nil {
		add("zk reachable=%v", z.Reachable)
		for _, ns := range sortedKeys(z.ParentZnodes) {
			add("zk znode %s=%v", ns, z.ParentZnodes[ns])
		}
		for _, ns := range sortedKeys(z.ActiveNameNodes) {
			add("zk active %s=%s", ns, z.ActiveNameNodes[ns])
		}
	}
	sort.Strings(lines)
	return SHA256Hex([]byte(strings.Join(lines, "\n")))
}
