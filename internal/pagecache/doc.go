// Package pagecache cuts what the kernel's page cache costs a writer of
// append-only files: [Allocate] allocates a file's blocks ahead of its
// writes, and [Drop] gives back the pages the writer has finished with.
//
// # Why
//
// Every byte appended to a file goes through a page-cache page, and the
// kernel keeps those pages after they are written back, until memory runs
// short. On a virtual machine whose memory the host backs lazily or takes
// back when the guest frees it (free page reporting, ballooning), a fresh
// page costs a fault in the host the first time it is written: on the
// project's 2-vCPU Firecracker VM, writing 512 MiB in 64 MiB files, each
// synced, cost 2.1-2.5 ns of CPU per byte, against 0.50 when each file's
// pages were dropped after its sync (docs/design/file.md, "The page
// cache"). Dropped pages go back to the kernel's free lists, and the next
// writes reuse them while they are still backed.
//
// # Allocating ahead
//
// A file system that allocates blocks when a write's pages are first
// dirtied (ext4's delayed allocation) reserves, tracks and later
// allocates each page's block as the file grows. With the blocks
// allocated ahead, a write only maps them: in the file exporter the
// write(2) of a 1.2 KB line cost about a quarter less CPU
// (docs/design/file.md, "Allocating ahead"). The file's size stays that
// of what was written, so readers see nothing past it; the blocks past it
// stay allocated until the file is truncated to its size or removed.
//
// # Safety
//
// Nothing here changes what is on disk or when it is durable: [Drop] is
// for a file that was just synced, whose pages are clean, and dropping
// clean pages costs no I/O; a reader of the file then reads it from the
// disk. Allocate changes no byte of the file. Off Linux, Drop does
// nothing, Droppable reports false and Allocate reports
// errors.ErrUnsupported.
package pagecache
