package schema

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// Rule is one validation rule: a stable ID (what CI suppressions and SARIF
// results refer to), its default severity and a one-line description.
type Rule struct {
	ID          string
	Severity    hcl.DiagnosticSeverity
	Description string
}

// SeverityName is "error" or "warning", as in terraform validate -json.
func SeverityName(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}

var ruleRegistry = map[string]Rule{}

func defRule(id string, sev hcl.DiagnosticSeverity, desc string) string {
	if _, dup := ruleRegistry[id]; dup {
		panic("schema: duplicate rule " + id)
	}
	ruleRegistry[id] = Rule{ID: id, Severity: sev, Description: desc}
	return id
}

// Rules lists every validation rule, sorted by ID.
func Rules() []Rule {
	out := make([]Rule, 0, len(ruleRegistry))
	for _, r := range ruleRegistry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RuleByID returns the rule with id.
func RuleByID(id string) (Rule, bool) {
	r, ok := ruleRegistry[id]
	return r, ok
}

const (
	sevErr  = hcl.DiagError
	sevWarn = hcl.DiagWarning
)

// The rules. IDs are stable: never renumber, only add.
var (
	// Language.
	RuleSyntax        = defRule("HA001", sevErr, "the file is not valid HCL syntax")
	RuleUnknown       = defRule("HA002", sevErr, "unknown block, attribute or label (with a \"did you mean\" suggestion)")
	RuleType          = defRule("HA003", sevErr, "a value has the wrong type or an expression cannot be evaluated")
	RuleRequired      = defRule("HA004", sevErr, "a required attribute, block or label is missing")
	RuleDuplicate     = defRule("HA005", sevErr, "a block that may appear once is given twice, or a name is declared twice")
	RuleVariable      = defRule("HA006", sevErr, "variables and locals: undeclared, without a value, or failing their validation")
	RuleLocalsCycle   = defRule("HA007", sevErr, "locals refer to each other in a cycle")
	RuleDuration      = defRule("HA008", sevErr, "a duration is not a positive Go duration string such as \"5s\" or \"500ms\"")
	RulePortRange     = defRule("HA009", sevErr, "a port is not within 1..65535")
	RuleTargetMissing = defRule("HA010", sevErr, "exactly one target block (local, ssh or ec2) is required")
	RuleEC2Settings   = defRule("HA011", sevErr, "target ec2 needs a region and instance groups, each with a role (master|core), an instance type and a count matching its hosts")
	RuleSpotMaster    = defRule("HA012", sevErr, "master instance groups, and hosts running a NameNode, JournalNode or ZooKeeper, are not on spot instances (a reclaimed master loses a NameNode or JournalNode)")
	RuleTargetKind    = defRule("HA013", sevErr, "the target kind is one of local, ssh, ec2")
	RuleEC2Image      = defRule("HA014", sevErr, "target ec2 takes an AMI ID (ami-…) or an SSM parameter naming the image, not both")
	RuleEC2Network    = defRule("HA015", sevErr, "target ec2's network is an existing VPC with its subnets, or a new one (vpc_cidr /16../24, availability zones of the region), with well-formed IDs")
	RuleEC2Access     = defRule("HA016", sevErr, "target ec2: ssh_cidrs are CIDR blocks and are given when instances or a bastion are reachable; private instances need a bastion")
	RuleEC2SSHOpen    = defRule("HA017", sevWarn, "target ec2: ssh_cidrs opens SSH to every address (0.0.0.0/0 or ::/0)")
	RuleEC2Volumes    = defRule("HA018", sevErr, "target ec2: root and data volume sizes, EBS types and the data volume's mount point are valid")
	RuleEC2Tags       = defRule("HA019", sevErr, "target ec2: tags are neither reserved (aws:*) nor set by hactl (Name, hactl:*) and fit EC2's lengths")
	RuleEC2OneZone    = defRule("HA026", sevWarn, "target ec2: several masters land in one availability zone (one subnet or zone given)")

	// Hosts.
	RuleHostDuplicate    = defRule("HA020", sevErr, "two hosts have the same name")
	RuleAddressDuplicate = defRule("HA021", sevErr, "two hosts have the same address")
	RuleAddress          = defRule("HA022", sevErr, "a host address is not a valid hostname or IP address")
	RuleHostReference    = defRule("HA023", sevErr, "a referenced host is not declared")
	RuleHostUnused       = defRule("HA024", sevWarn, "a host runs no daemon")
	RuleLocalLoopback    = defRule("HA025", sevErr, "on target local every host address is a loopback address (127.x.x.x)")

	// Nameservices and NameNodes.
	RuleIdentifier      = defRule("HA030", sevErr, "nameservice, NameNode and journal IDs are valid Hadoop identifiers (letters, digits, '-', '_')")
	RuleIDDuplicate     = defRule("HA031", sevErr, "nameservice IDs, and NameNode IDs within a nameservice, are unique")
	RuleTooFewNameNodes = defRule("HA032", sevErr, "a nameservice has at least 2 NameNodes")
	RuleManyNameNodes   = defRule("HA033", sevWarn, "a nameservice has more than 5 NameNodes (Hadoop recommends 3, at most 5)")
	RuleNameNodeHosts   = defRule("HA034", sevErr, "the NameNodes of one nameservice run on distinct hosts")
	RuleSharedEdits     = defRule("HA035", sevErr, "a nameservice needs a journal block or a shared_edits qjournal URI")
	RuleNameDirMissing  = defRule("HA036", sevErr, "every NameNode has a name_dir (Hadoop's default lives under /tmp)")

	// JournalNodes and the qjournal URI.
	RuleTooFewJournals   = defRule("HA040", sevErr, "a journal quorum has at least 3 JournalNodes")
	RuleEvenJournals     = defRule("HA041", sevWarn, "an even number of JournalNodes tolerates no more failures than one fewer")
	RuleQJournalSyntax   = defRule("HA042", sevErr, "shared_edits parses as qjournal://host:port;host:port;.../journalId")
	RuleQJournalMismatch = defRule("HA043", sevErr, "qjournal URI entries agree with the journal hosts and ports")
	RuleJournalDuplicate = defRule("HA044", sevErr, "a JournalNode appears twice in a quorum")
	RuleJournalIDMissing = defRule("HA045", sevErr, "the qjournal URI names a journal ID")
	RuleJournalIDDiffers = defRule("HA046", sevWarn, "the journal ID differs from the nameservice name")
	RuleJournalIDShared  = defRule("HA047", sevErr, "two nameservices use the same journal ID on the same JournalNode")
	RuleJournalConflict  = defRule("HA048", sevErr, "nameservices sharing a JournalNode host agree on its ports and edits_dir (one JournalNode per host)")

	// ZooKeeper.
	RuleZKRequired       = defRule("HA050", sevErr, "automatic_failover needs a zookeeper block (the ZKFCs elect through it)")
	RuleZKQuorumSize     = defRule("HA051", sevWarn, "a ZooKeeper quorum of fewer than 3, or an even number of, servers tolerates no extra failure")
	RuleZKSingle         = defRule("HA052", sevWarn, "a single ZooKeeper server outside target local: Hadoop runs on it, but it is a single point of failure")
	RuleZKSessionTimeout = defRule("HA053", sevErr, "session_timeout lies within ZooKeeper's bounds, 2 to 20 tickTimes")
	RuleZKServer         = defRule("HA054", sevErr, "a ZooKeeper server is a host name when managed, \"host\" or \"host:port\" when external")
	RuleZKDuplicate      = defRule("HA055", sevErr, "a ZooKeeper server is listed twice")
	RuleZKZnode          = defRule("HA056", sevErr, "parent_znode is an absolute ZooKeeper path without a trailing slash")

	// Fencing.
	RuleFencingRequired   = defRule("HA060", sevErr, "automatic failover needs fencing methods (Hadoop's ZKFC refuses to start without)")
	RuleFencingSyntax     = defRule("HA061", sevErr, "a fencing method parses as sshfence, sshfence([user][:port]) or shell(command)")
	RuleSSHFenceKey       = defRule("HA062", sevErr, "sshfence needs private_key_files")
	RuleLocalSSHFence     = defRule("HA063", sevErr, "target local cannot use sshfence (use shell fencing)")
	RuleSSHFencePublicKey = defRule("HA065", sevErr, "a private_key_files entry is a public key (.pub)")
	RuleFencingFallback   = defRule("HA064", sevWarn, "sshfence alone stalls failover when the old active's host is down; end with a shell() fallback")

	// Bindings and storage.
	RulePortConflict     = defRule("HA066", sevErr, "no two daemons bind the same host:port")
	RuleAbsolutePath     = defRule("HA070", sevErr, "directories and key files are absolute paths")
	RuleDirOverlap       = defRule("HA071", sevErr, "two storage directories (name, edits, DataNode data, ZooKeeper data) are not the same or nested on one host")
	RuleRuntimeDirSafety = defRule("HA073", sevErr, "hactl's runtime dirs and the storage dirs are no system directory; runtime dirs overlap no storage dir and no other runtime dir")

	// DataNodes and blocks.
	RuleDataNodeDirs  = defRule("HA100", sevErr, "a datanode block lists at least one data dir")
	RuleDataNodeHosts = defRule("HA101", sevErr, "a datanode block lists hosts, and a host runs one DataNode (it is in one datanode block, once)")
	RuleReplication   = defRule("HA102", sevErr, "replication lies within 1..512 and does not exceed the number of DataNodes")
	RuleNoDataNodes   = defRule("HA103", sevWarn, "a cluster without DataNodes keeps file data inline in the NameNodes (at most 1 MiB per file)")

	// Path safety (every path reaches shell scripts on the hosts and Hadoop's XML).
	RulePathControlChar = defRule("HA090", sevErr, "no path contains a control character (newline, tab, …)")
	RulePathComma       = defRule("HA091", sevErr, "name_dir and private_key_files entries contain no comma (Hadoop splits those settings on commas)")
	RulePathVariable    = defRule("HA092", sevErr, "no path contains ${...} (hactl's daemons and scripts take paths literally; Hadoop's Configuration would expand it)")
	RuleTextControlChar = defRule("HA093", sevErr, "no SSH user or bastion, parent_znode or passthrough key contains a control character, nor a passthrough value one but tab and newline")

	// Passthrough.
	RuleUndeclaredNameservice = defRule("HA081", sevWarn, "a passthrough per-nameservice key (failover proxy provider) names a nameservice that is not declared")
	RuleKeyMisspelled         = defRule("HA082", sevWarn, "a hadoop passthrough key is a near miss (edit distance) of a key Hadoop or hactl knows")
	RulePassthroughModelled   = defRule("HA080", sevErr, "a hadoop passthrough key sets a key hactl renders from the model (set the HCL attribute instead)")
)

// ruleExtra tags a diagnostic with its rule ID, wrapping whatever Extra HCL
// itself attached so that HCL's own helpers keep working.
type ruleExtra struct {
	id    string
	inner any
}

func (r ruleExtra) HactlRuleID() string        { return r.id }
func (r ruleExtra) UnwrapDiagnosticExtra() any { return r.inner }

type ruleTagged interface{ HactlRuleID() string }

// RuleID returns the rule ID a diagnostic carries, or "".
func RuleID(d *hcl.Diagnostic) string {
	if d == nil {
		return ""
	}
	if t, ok := hcl.DiagnosticExtra[ruleTagged](d); ok {
		return t.HactlRuleID()
	}
	return ""
}

// tagRule sets id on every diagnostic that has none yet.
func tagRule(diags hcl.Diagnostics, id string) hcl.Diagnostics {
	for _, d := range diags {
		if RuleID(d) == "" {
			d.Extra = ruleExtra{id: id, inner: d.Extra}
		}
	}
	return diags
}

// tagContentDiags tags the diagnostics of hcl.Body.Content by what they say.
func tagContentDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		if RuleID(d) != "" {
			continue
		}
		id := RuleType
		switch {
		case d.Summary == "Unsupported argument" || d.Summary == "Unsupported block type":
			id = RuleUnknown
		case d.Summary == "Missing required argument" || hasPrefix(d.Summary, "Missing "):
			id = RuleRequired
		case hasPrefix(d.Summary, "Duplicate ") || hasPrefix(d.Summary, "Attribute redefined"):
			id = RuleDuplicate
		}
		d.Extra = ruleExtra{id: id, inner: d.Extra}
	}
	return diags
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
