#!/usr/bin/env bash
# Installs what hactl's integration tests need on a Debian machine: Go modules,
# Apache ZooKeeper (Debian package `zookeeper`) and OpenSSH's server. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
need=()
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ip >/dev/null || need+=(iproute2)
[ -x /usr/bin/chromium ] || need+=(chromium)   # the NameNode status page, loaded headless
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps: need root to apt-get install ${need[*]}" >&2
    exit 1
  fi
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The off-the-shelf WebHDFS client (npm package `webhdfs`) the integration tests drive.
npm_prefix="${HACTL_WEBHDFS_NPM_PREFIX:-/var/cache/hactl-test/npm}"
if [ ! -f "$npm_prefix/node_modules/webhdfs/package.json" ] && command -v npm >/dev/null; then
  mkdir -p "$npm_prefix"
  npm install --silent --no-audit --no-fund --prefix "$npm_prefix" webhdfs@1 >/dev/null
fi
# The off-the-shelf native HDFS client (colinmarc/hdfs's `hdfs` command) the
# native RPC acceptance tests drive (e2e/nativeclient); never in hactl's go.mod.
native_bin="${HACTL_NATIVE_HDFS_BIN_DIR:-/var/cache/hactl-test/bin}"
[ -x "$native_bin/hdfs" ] || GOBIN="$native_bin" go install github.com/colinmarc/hdfs/v2/cmd/hdfs@v2.4.0
echo "test dependencies present: zookeeper $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo ?), sshd, iproute2, chromium, colinmarc/hdfs"
