// Package namenode is hactl's HA NameNode: an in-memory HDFS namespace whose
// every change is an edit acknowledged through the quorum journal, with
// fsimage checkpoints, standby tailing, HA transitions and its HTTP surface.
package namenode
