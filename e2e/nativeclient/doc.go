// Package nativeclient holds the acceptance tests of hactl's native RPC
// against an HDFS client nobody here wrote: the colinmarc/hdfs command line
// (installed by scripts/install-test-deps.sh) and its Go library. They start
// a nameservice with e2e/proccluster on 127.0.21.x and run only with
// HACTL_INTEGRATION=1, under the integration lock.
package nativeclient
