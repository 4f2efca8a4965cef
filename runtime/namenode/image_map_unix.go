//go:build unix

package namenode

import (
	"fmt"
	"os"
	"syscall"
)

// mapImage maps a received image file read-only: decoding and saving it then
// read the page cache, and the heap does not hold a second copy of a
// multi-gigabyte image. The mapping must not outlive release; AcceptImage
// keeps nothing of the image it decodes (it reads only the txid).
func mapImage(path string) (data []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, func() {}, nil
	}
	if int64(int(st.Size())) != st.Size() {
		return nil, nil, fmt.Errorf("map %s: %d bytes do not fit in memory", path, st.Size())
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	return b, func() { syscall.Munmap(b) }, nil
}
