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
// is not reported. The descriptor is reached through SyscallConn, not
// (*os.File).Fd, which would switch the file to blocking mode.
func Drop(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Fadvise(int(fd), 0, 0, unix.FADV_DONTNEED) })
	}
}

// Allocate allocates the blocks of f from off to off+n without changing
// its size (fallocate(2) with FALLOC_FL_KEEP_SIZE). It fails with the
// file system's error (EOPNOTSUPP without fallocate, ENOSPC without room),
// and may have allocated part of the range when it fails; truncating the
// file to its size gives back every block past its end.
func Allocate(f *os.File, off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if cerr := rc.Control(func(fd uintptr) {
		err = unix.Fallocate(int(fd), unix.FALLOC_FL_KEEP_SIZE, off, n)
	}); cerr != nil {
		return cerr
	}
	return err
}

// Resident reports how many of the pages of the file at path are in the
// page cache, and how many it has (mincore(2) of a read-only mapping,
// which reads nothing in). It is for tests and diagnostics; an empty file
// has none.
func Resident(path string) (resident, total int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return 0, 0, err
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Munmap(data)
	page := os.Getpagesize()
	vec := make([]byte, (len(data)+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, 0, errno
	}
	for _, v := range vec {
		resident += int(v & 1)
	}
	return resident, len(vec), nil
}

// Droppable reports whether the files of dir have page-cache pages that
// [Drop] can drop: false on tmpfs and ramfs, whose pages are the files.
func Droppable(dir string) (bool, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return false, err
	}
	// The magic numbers are 32 bits; Type is int32 on 32-bit platforms,
	// where RAMFS_MAGIC does not fit.
	t := uint32(fs.Type)
	return t != unix.TMPFS_MAGIC && t != unix.RAMFS_MAGIC, nil
}
