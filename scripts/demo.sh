#!/usr/bin/env bash
# The main job (`make demo`): build hactl, install Apache ZooKeeper if it is
# missing, apply examples/local (three "hosts" on 127.0.1.1-3, each running a
# ZooKeeper server, a JournalNode, a NameNode and its ZKFC, and a DataNode),
# show the cluster's status, write and read a small file and a 100 MB one
# (byte-compared; its blocks on the three DataNodes) through the HA
# nameservice, and say how to try a failover and how to tear it all down. Idempotent: run it again and apply
# finds nothing to do (plan reports no changes).
#
# EXAMPLE=path/to/cluster-dir overrides the configuration (the e2e notes use
# this to try the script on another loopback range).
set -euo pipefail
cd "$(dirname "$0")/.."

EXAMPLE=${EXAMPLE:-examples/local}
HACTL=${HACTL:-bin/hactl}
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Building hactl ($HACTL)"
mkdir -p "$(dirname "$HACTL")"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X github.com/hactl/hactl/cli.Version=$version" -o "$HACTL" ./cmd/hactl
"$HACTL" --version

if [ ! -f /usr/share/java/zookeeper.jar ]; then
  step "Installing Apache ZooKeeper (Debian package zookeeper)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends zookeeper >/dev/null
fi
command -v java >/dev/null || { echo "demo: java is missing (ZooKeeper needs it): apt-get install default-jre-headless" >&2; exit 1; }
echo "ZooKeeper: $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo present)"

step "hactl validate $EXAMPLE"
"$HACTL" validate "$EXAMPLE"

step "hactl plan $EXAMPLE"
"$HACTL" plan "$EXAMPLE"

step "hactl apply --auto-approve $EXAMPLE"
start=$(date +%s%N)
"$HACTL" apply --auto-approve "$EXAMPLE"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf 'apply took %d.%03ds\n' $((ms / 1000)) $((ms % 1000))

step "hactl status $EXAMPLE"
"$HACTL" status "$EXAMPLE"

step "Writing and reading a file through the HA nameservice (hactl fs)"
tmp=$(mktemp)
big=$(mktemp)
back=$(mktemp)
trap 'rm -f "$tmp" "$big" "$back"' EXIT
echo "hello from hactl, written $(date -u +%FT%TZ)" >"$tmp"
"$HACTL" fs mkdir --config "$EXAMPLE" -p /demo
"$HACTL" fs put --config "$EXAMPLE" -f "$tmp" /demo/hello.txt
echo "\$ hactl fs cat /demo/hello.txt"
"$HACTL" fs cat --config "$EXAMPLE" /demo/hello.txt

step "A 100 MB file through the DataNodes (three replicas), read back and byte-compared"
head -c 100000000 /dev/urandom >"$big"
start=$(date +%s%N)
"$HACTL" fs put --config "$EXAMPLE" -f "$big" /demo/100mb.bin
ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf 'hactl fs put 100 MB: %d.%03ds\n' $((ms / 1000)) $((ms % 1000))
start=$(date +%s%N)
"$HACTL" fs cat --config "$EXAMPLE" /demo/100mb.bin >"$back"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf 'hactl fs cat 100 MB: %d.%03ds\n' $((ms / 1000)) $((ms % 1000))
cmp "$big" "$back"
echo "read back byte-identical"
echo "\$ hactl fs ls /demo"
"$HACTL" fs ls --config "$EXAMPLE" /demo

step "Converged? (hactl plan --detailed-exitcode: 0 = no changes)"
set +e
"$HACTL" plan --detailed-exitcode "$EXAMPLE" >/dev/null
code=$?
set -e
case $code in
  0) echo "yes: the cluster matches $EXAMPLE; running this script again changes nothing" ;;
  2) echo "not yet: plan still shows changes (run 'hactl plan $EXAMPLE' to see them)" ;;
  *) echo "plan failed (exit $code)"; exit "$code" ;;
esac

cat <<EOF

The HA cluster is running. Try:

  $HACTL status $EXAMPLE                   # who is active; pids of every daemon
  $HACTL failover --to nn2 $EXAMPLE        # graceful failover through the ZKFCs
  kill -9 <pid of the active namenode>          # a crash: a standby takes over in seconds
  $HACTL fs cat --config $EXAMPLE /demo/hello.txt   # still there after either
  $HACTL apply --auto-approve $EXAMPLE     # restarts whatever is down

Tear it down:

  $HACTL destroy --auto-approve $EXAMPLE               # stop daemons, keep the data
  $HACTL destroy --auto-approve --purge-data $EXAMPLE  # and remove the data too
EOF
