//go:build !unix

package namenode

import "os"

// mapImage reads a received image file (no mmap on this platform).
func mapImage(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
