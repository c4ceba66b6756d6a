// Package pagecache lets a writer of append-only files give the operating
// system's page cache back the pages it has finished with.
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
// # Safety
//
// Nothing here changes what is on disk or when it is durable: [Drop] is
// for a file that was just synced, whose pages are clean, and dropping
// clean pages costs no I/O; a reader of the file then reads it from the
// disk. Off Linux, Drop does nothing and Droppable reports false.
package pagecache
