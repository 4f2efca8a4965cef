// Package hadoopconf reads and writes Hadoop's XML configuration files
// (core-site.xml, hdfs-site.xml) and answers typed look-ups with Hadoop's
// defaults, so hactl's renderer and its runtime daemons speak the same keys.
package hadoopconf

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Property is one <property> of a Hadoop configuration file.
type Property struct {
	Name        string
	Value       string
	Description string
	Final       bool
	Source      string // file it was read from, if any
}

// Config is an ordered set of properties; later Sets of the same key replace
// the value in place (as Hadoop's Configuration does when a later resource
// overrides an earlier one, unless the earlier one is final).
type Config struct {
	props []Property
	index map[string]int
	dups  []string // keys a parsed file gave more than once, in order
}

// Duplicates lists the keys a parsed file declared in more than one
// <property>, once each, in the order of their second appearance. Hadoop keeps
// the last value (unless an earlier one is final); so does Parse.
func (c *Config) Duplicates() []string { return append([]string(nil), c.dups...) }

// New returns an empty configuration.
func New() *Config { return &Config{index: map[string]int{}} }

// Set sets key to value, keeping the key's original position if it was set before.
func (c *Config) Set(key, value string) {
	if i, ok := c.index[key]; ok {
		c.props[i].Value = value
		return
	}
	c.index[key] = len(c.props)
	c.props = append(c.props, Property{Name: key, Value: value})
}

func (c *Config) setProp(p Property) {
	if i, ok := c.index[p.Name]; ok {
		if c.props[i].Final {
			return
		}
		c.props[i] = p
		return
	}
	c.index[p.Name] = len(c.props)
	c.props = append(c.props, p)
}

// Unset removes key.
func (c *Config) Unset(key string) {
	i, ok := c.index[key]
	if !ok {
		return
	}
	c.props = append(c.props[:i], c.props[i+1:]...)
	delete(c.index, key)
	for j := i; j < len(c.props); j++ {
		c.index[c.props[j].Name] = j
	}
}

// Lookup returns the raw value of key and whether it is set.
func (c *Config) Lookup(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	i, ok := c.index[key]
	if !ok {
		return "", false
	}
	return c.props[i].Value, true
}

// Get returns the trimmed value of key, or def when it is unset or blank.
func (c *Config) Get(key, def string) string {
	v, ok := c.Lookup(key)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return def
	}
	return v
}

// Int returns key as an integer, def when unset; a malformed value is an error
// naming the key.
func (c *Config) Int(key string, def int64) (int64, error) {
	v := c.Get(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("configuration key %s: %q is not an integer", key, v)
	}
	return n, nil
}

// Bool returns key as a boolean, def when unset.
func (c *Config) Bool(key string, def bool) (bool, error) {
	v := c.Get(key, "")
	if v == "" {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("configuration key %s: %q is not true or false", key, v)
}

// Millis returns key, given in milliseconds as Hadoop's *.ms keys are, as a Duration.
func (c *Config) Millis(key string, def time.Duration) (time.Duration, error) {
	n, err := c.Int(key, int64(def/time.Millisecond))
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Millisecond, nil
}

// Seconds returns key, given in seconds (Hadoop's dfs.namenode.checkpoint.period
// style, which also accepts a unit suffix such as 1h, 30s, 500ms), as a Duration.
func (c *Config) Seconds(key string, def time.Duration) (time.Duration, error) {
	v := c.Get(key, "")
	if v == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("configuration key %s: %q is not a number of seconds", key, v)
}

// Size returns key as a number of bytes in Hadoop's size notation
// (dfs.blocksize: 134217728, 128m, 1g), def when unset or malformed.
func (c *Config) Size(key string, def int64) int64 {
	v := strings.ToLower(c.Get(key, ""))
	if v == "" {
		return def
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40} {
		if strings.HasSuffix(v, suffix) {
			v, mult = strings.TrimSuffix(v, suffix), m
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def
	}
	return n * mult
}

// Strings returns a comma-separated key as trimmed, non-empty parts (Hadoop's getTrimmedStrings).
func (c *Config) Strings(key string) []string {
	return SplitTrimmed(c.Get(key, ""), ",")
}

// Lines returns a newline-separated key (dfs.ha.fencing.methods) as trimmed, non-empty lines.
func (c *Config) Lines(key string) []string {
	return SplitTrimmed(c.Get(key, ""), "\n")
}

// SplitTrimmed splits s on sep and drops blank parts.
func SplitTrimmed(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Keys returns the keys in file order.
func (c *Config) Keys() []string {
	out := make([]string, len(c.props))
	for i, p := range c.props {
		out[i] = p.Name
	}
	return out
}

// SortedKeys returns the keys in lexical order.
func (c *Config) SortedKeys() []string {
	k := c.Keys()
	sort.Strings(k)
	return k
}

// Properties returns a copy of the properties in order.
func (c *Config) Properties() []Property { return append([]Property(nil), c.props...) }

// Merge sets every property of o into c (o wins, except over final properties).
func (c *Config) Merge(o *Config) {
	for _, p := range o.props {
		c.setProp(p)
	}
}

type xmlConfiguration struct {
	XMLName    xml.Name      `xml:"configuration"`
	Properties []xmlProperty `xml:"property"`
}

type xmlProperty struct {
	Name        string `xml:"name"`
	Value       string `xml:"value"`
	Description string `xml:"description,omitempty"`
	Final       string `xml:"final,omitempty"`
}

// Parse reads one Hadoop configuration XML document. name is used in errors.
func Parse(name string, data []byte) (*Config, error) {
	var doc xmlConfiguration
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a Hadoop configuration file: %w", name, err)
	}
	c := New()
	for i, p := range doc.Properties {
		n := strings.TrimSpace(p.Name)
		if n == "" {
			return nil, fmt.Errorf("%s: property #%d has no <name>", name, i+1)
		}
		if _, ok := c.index[n]; ok && !slices.Contains(c.dups, n) {
			c.dups = append(c.dups, n)
		}
		c.setProp(Property{Name: n, Value: p.Value, Description: p.Description,
			Final: strings.TrimSpace(p.Final) == "true", Source: name})
	}
	return c, nil
}

// ReadFile parses one configuration file.
func ReadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// LoadDir reads DIR/core-site.xml then DIR/hdfs-site.xml (either may be
// missing, not both), the way the daemons load their configuration.
func LoadDir(dir string) (*Config, error) {
	c := New()
	found := 0
	for _, f := range []string{"core-site.xml", "hdfs-site.xml"} {
		p := filepath.Join(dir, f)
		fc, err := ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found++
		c.Merge(fc)
	}
	if found == 0 {
		return nil, fmt.Errorf("no core-site.xml or hdfs-site.xml in %s", dir)
	}
	return c, nil
}

// escapeText escapes what XML requires in character data, but keeps newlines
// literal so multi-line values (dfs.ha.fencing.methods) stay readable in review.
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;").Replace(s)
}

// Marshal renders the configuration as a Hadoop XML file, properties in the
// order given (callers sort when they want a stable, reviewable file).
func (c *Config) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	b.WriteString("<?xml-stylesheet type=\"text/xsl\" href=\"configuration.xsl\"?>\n")
	b.WriteString("<!-- Generated by hactl. Edit the HCL and run `hactl render`, not this file. -->\n")
	b.WriteString("<configuration>\n")
	for _, p := range c.props {
		b.WriteString("  <property>\n    <name>")
		b.WriteString(escapeText(p.Name))
		b.WriteString("</name>\n    <value>")
		b.WriteString(escapeText(p.Value))
		b.WriteString("</value>\n")
		if p.Final {
			b.WriteString("    <final>true</final>\n")
		}
		b.WriteString("  </property>\n")
	}
	b.WriteString("</configuration>\n")
	return b.Bytes()
}

// NameNodeView is Hadoop's NameNode.initializeGenericKeys for NameNode nn of
// nameservice ns: a key suffixed with .<ns> or .<ns>.<nn> also sets its
// generic key (the more specific suffix wins), so on a host running NameNodes
// of several nameservices each reads its own dfs.namenode.name.dir.<ns>.<nn>
// and dfs.ha.fencing.methods.<ns> as the generic keys.
func NameNodeView(c *Config, ns, nn string) *Config {
	out := New()
	out.Merge(c)
	for _, suffix := range []string{"." + ns, "." + ns + "." + nn} {
		for _, p := range c.Properties() {
			if base, ok := strings.CutSuffix(p.Name, suffix); ok && base != "" {
				out.Set(base, p.Value)
			}
		}
	}
	return out
}

// KeyAutomaticFailover is Hadoop's dfs.ha.automatic-failover.enabled.
const KeyAutomaticFailover = "dfs.ha.automatic-failover.enabled"

// AutomaticFailover says whether automatic failover is enabled for
// nameservice ns, resolved as Hadoop's NameNode, ZKFC and DFSHAAdmin resolve
// it (NameNode.NAMESERVICE_SPECIFIC_KEYS, then Configuration.getBoolean):
// KeyAutomaticFailover.<ns>, when set at all (even blank), replaces the
// global key; the value is trimmed, "true" and "false" in any case; unset or
// blank is false. Every hactl daemon and command asks this one function, so
// they cannot disagree about a value. Unlike getBoolean, which takes any other
// value as false, a value that is neither is an error naming the key: a
// hand-typed "ture" must not make haadmin act as if failover were manual
// while the ZKFCs run.
func (c *Config) AutomaticFailover(ns string) (bool, error) {
	key := KeyAutomaticFailover
	v, ok := c.Lookup(key + "." + ns)
	if ns != "" && ok {
		key += "." + ns
	} else {
		v, _ = c.Lookup(key)
	}
	switch v = strings.TrimSpace(v); {
	case v == "":
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return false, fmt.Errorf("configuration key %s: %q is not true or false", key, v)
}
