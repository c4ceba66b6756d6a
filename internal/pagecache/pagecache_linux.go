//go:build linux

package pagecache

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Drop advises the kernel to drop f's pages from the page cache
// (posix_fadvise POSIX_FADV_DONTNEED over the whole file). Call it after
// f was synced: clean pages are dropped without I/O, while dirty ones are
// only queued for writeback and stay. The advice is a hint, so an error
// is not reported.
func Drop(f *os.File) { control(f, func(fd int) { _ = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED) }) }

// control runs fn with f's descriptor, without (*os.File).Fd's switch of
// the file to blocking mode.
func control(f *os.File, fn func(fd int)) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { fn(int(fd)) })
}

// Resident reports how many of the pages of the file at path are in the
// page cache, and how many it has (mincore(2) of a read-only mapping,
// which reads nothing in). It is for tests and diagnostics; an empty file
// has none.
func Resident(path string) (resident, total int, err error) {
	st, err := os.Stat(path)
	if err != nil || st.Size() == 0 {
		return 0, 0, err
	}
	return ResidentRange(path, 0, st.Size())
}

// ResidentRange is [Resident] for the pages of [off, off+n) only; off
// is a multiple of the page size.
func ResidentRange(path string, off, n int64) (resident, total int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	data, err := unix.Mmap(int(f.Fd()), off, int(n), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Munmap(data)
	vec, err := mincore(data)
	if err != nil {
		return 0, 0, err
	}
	for _, v := range vec {
		resident += int(v & 1)
	}
	return resident, len(vec), nil
}

func mincore(data []byte) ([]byte, error) {
	page := os.Getpagesize()
	vec := make([]byte, (len(data)+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return nil, errno
	}
	return vec, nil
}

// Droppable reports whether the files of dir have page-cache pages that
// [Drop] can drop: false on tmpfs and ramfs, whose pages are the files.
func Droppable(dir string) (bool, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return false, err
	}
	return fs.Type != unix.TMPFS_MAGIC && fs.Type != unix.RAMFS_MAGIC, nil
}
