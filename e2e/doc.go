// Package e2e drives the built hactl binary against real hosts (loopback and SSH network-namespace hosts) end to end.
package e2e
