package targets

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// This file splits the probe script's output into its tagged lines; the
// judging of them is in preflight.go.

// scanned is the probe script's output, split into its tagged lines.
type scanned struct {
	fields      map[string]map[string]string // tag -> kind -> value
	ents        map[string][]string
	journalTags []string
	recs        map[string][]byte
	stats       map[int][]byte
	mainPIDs    map[string]int
	exes        map[int]string          // pid -> the binary it runs (readlink /proc/PID/exe)
	listen      map[string]int          // socket inode -> port
	socks       map[int]map[string]bool // pgid -> socket inodes
	ended       bool
	// procscan.go's: command lines of the host's processes (NUL-separated
	// argv) and of the holders of listening sockets; listening addresses
	// and their holders by socket inode; the host's clock.
	cmds, hcmds map[int][]byte
	listenAddrs map[string]netip.AddrPort
	holders     map[string][]int
	now         int64
	unitStates  map[string]string // daemon -> the systemd unit's state, as a supervisor state
}

// scanPreflight splits the script's output (without the installed probe's
// part) into its tagged lines.
func scanPreflight(out []byte, pf *preflight) (*scanned, error) {
	s := &scanned{fields: map[string]map[string]string{}, ents: map[string][]string{}, recs: map[string][]byte{},
		stats: map[int][]byte{}, mainPIDs: map[string]int{}, exes: map[int]string{}, listen: map[string]int{}, socks: map[int]map[string]bool{},
		cmds: map[int][]byte{}, hcmds: map[int][]byte{}, listenAddrs: map[string]netip.AddrPort{}, holders: map[string][]int{}, unitStates: map[string]string{}}
	sawMagic := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	// The storage record's line is the longest (its hex, up to one byte
	// past MaxStorageRecord so that a larger record shows as such).
	sc.Buffer(make([]byte, 0, 64*1024), 2*(MaxStorageRecord+1)+64)
	for sc.Scan() {
		line := sc.Text()
		if !sawMagic {
			sawMagic = line == preflightMagic
			continue
		}
		tag, rest, _ := strings.Cut(line, " ")
		switch {
		case tag == "os":
			pf.os, pf.arch, _ = strings.Cut(rest, " ")
		case tag == "end":
			s.ended = true
		case tag == "zkjar":
			s.fields["zkjar"] = map[string]string{"": "1"}
		case tag == "listen":
			inode, addr, _ := strings.Cut(rest, " ")
			if k := strings.LastIndexByte(addr, ':'); k >= 0 {
				if port, err := strconv.ParseUint(addr[k+1:], 16, 16); err == nil {
					s.listen[inode] = int(port)
				}
			}
			if a, ok := procAddr(addr); ok {
				s.listenAddrs[inode] = a
			}
		case tag == "holder":
			pid, inode, _ := strings.Cut(rest, " ")
			if n, err := strconv.Atoi(pid); err == nil {
				s.holders[inode] = append(s.holders[inode], n)
			}
		case tag == "now":
			s.now, _ = strconv.ParseInt(rest, 10, 64)
		case strings.HasPrefix(tag, "cmd:"), strings.HasPrefix(tag, "hcmd:"):
			k, pid, _ := strings.Cut(tag, ":")
			n, err := strconv.Atoi(pid)
			b, herr := hex.DecodeString(rest)
			if err == nil && herr == nil {
				map[string]map[int][]byte{"cmd": s.cmds, "hcmd": s.hcmds}[k][n] = b
			}
		case strings.HasPrefix(tag, "unitstate:"):
			s.unitStates[strings.TrimPrefix(tag, "unitstate:")] = unitState(strings.TrimSpace(rest))
		case tag == "sock":
			g, inode, _ := strings.Cut(rest, " ")
			pg, _ := strconv.Atoi(g)
			if s.socks[pg] == nil {
				s.socks[pg] = map[string]bool{}
			}
			s.socks[pg][inode] = true
		case strings.HasPrefix(tag, "rec:"):
			b, err := hex.DecodeString(rest)
			if err != nil {
				return nil, fmt.Errorf("bad %s line", tag)
			}
			s.recs[strings.TrimPrefix(tag, "rec:")] = b
		case strings.HasPrefix(tag, "stat:"):
			pid, _ := strconv.Atoi(strings.TrimPrefix(tag, "stat:"))
			if b, err := hex.DecodeString(rest); err == nil {
				s.stats[pid] = b
			}
		case strings.HasPrefix(tag, "exe:"):
			pid, _ := strconv.Atoi(strings.TrimPrefix(tag, "exe:"))
			s.exes[pid] = rest
		case strings.HasPrefix(tag, "mainpid:"):
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			s.mainPIDs[strings.TrimPrefix(tag, "mainpid:")] = n
		default:
			kind, value, _ := strings.Cut(rest, " ")
			if rest == "journal" {
				s.journalTags = append(s.journalTags, tag)
				continue
			}
			if kind == "ent" {
				s.ents[tag] = append(s.ents[tag], value)
				continue
			}
			if s.fields[tag] == nil {
				s.fields[tag] = map[string]string{}
			}
			switch kind {
			case "dir", "sha", "size":
				s.fields[tag][kind] = value
			default: // "<tag> <hex>": a file's content
				s.fields[tag]["hex"] = rest
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !sawMagic {
		return nil, fmt.Errorf("no %q line", preflightMagic)
	}
	return s, nil
}

// file returns the content of the file the script sent under tag.
func (s *scanned) file(tag string) ([]byte, bool) {
	f, ok := s.fields[tag]["hex"]
	if !ok {
		return nil, false
	}
	b, err := hex.DecodeString(f)
	return b, err == nil
}
