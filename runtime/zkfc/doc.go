// Package zkfc is hactl's ZooKeeper failover controller (Hadoop's ZKFailoverController): a pure elector and health monitor state machine, driven by a real ZooKeeper session, that fences the old active and makes the local NameNode active.
//
// The elector (elector.go) takes events (ZooKeeper session changes, health
// changes, results of its own actions) and returns actions (create the lock,
// read the breadcrumb, fence, transition the NameNode); Controller
// (controller.go) performs them with go-zookeeper, the NameNode's signed HA
// HTTP calls and runtime/fence, feeding each result back before anything
// else. The znodes and their contents are Hadoop's, so hactl's ZKFC and
// Hadoop's interoperate on one ZooKeeper.
package zkfc
