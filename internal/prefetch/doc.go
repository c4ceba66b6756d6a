// Package prefetch asks the processor to start loading memory into its
// caches ahead of use, without waiting for it.
//
// # Why
//
// An exporter's worker encodes impressions whose memory the caller's core
// wrote last (personalize recycles impression blocks between cores). Read
// in encoding order, each cache line comes over from the other core only
// when the encoder reaches it, one transfer after another. [Ahead],
// called before encoding each event of a batch, asks for the next events'
// lines while the current one is encoded, so the transfers overlap with
// that work. On the project's 2-vCPU VM it cut the encoder's time per
// 10-item impression from 316-403 ns to 155-215 ns with the caller on the
// other core (docs/design/pipeline.md, "Prefetching in the encoders").
// [LinesForWrite] is the same for memory about to be written: the caller
// asks for the next recycled impression block, which the pipeline's
// cores read last, before its next Start writes it (pipeline.md,
// "Requesting the next block").
//
// # Safety
//
// A prefetch is a hint: it never faults, changes no memory, and the
// processor may drop it. [Lines] is PREFETCHT0 on amd64 and PRFM
// PLDL1KEEP on arm64; [LinesForWrite] is PREFETCHW (a no-op on processors
// without it) and PRFM PSTL1KEEP; both do nothing elsewhere. Every
// function is safe for concurrent use; none retains its arguments.
package prefetch
