// Package peerbench compares rankscope's instrumentation with its peers
// (zap, the OpenTelemetry SDK written by hand, and a floor) on one unit of
// work, in one go test -bench run so the ratios hold on a noisy machine.
//
// # The unit of work
//
// One instrumented inference: the timing of three stages
// (feature_retrieval, model_scoring, network; their bodies do nothing) and
// of the whole, five clock reads where the contender times by hand; a
// 10-item impression (item id, position, score, propensity); the user id
// pseudonymized with HMAC-SHA256 under a 32-byte key ([Keyring]); and one
// event delivered to a JSON-lines file. Users cycle through a pool of
// [PoolSize] distinct ids; request ids are unique ([Caller]).
//
// # Contenders
//
//   - floor: the clock reads, the HMAC, and a channel send to a goroutine
//     that discards (no file).
//   - rankscope/default: personalize.New with exporters/file and the
//     default Config (a full queue drops, counts, and End says so).
//   - rankscope/block: the same with Config.BlockTimeout = 1s.
//   - zap: one Info line per inference, JSON encoder, BufferedWriteSyncer.
//   - otel/naive: every trace sampled, attributes built per call, spans and
//     the impression log record written to files by the stdout exporters.
//   - otel/tuned: 1% of traces sampled, cached attribute sets, the same log
//     record.
//
// # Modes
//
// BenchmarkPeer runs each contender in a spinning loop, sequentially and
// from 64 goroutines: it measures what the stack costs and delivers when
// callers offer more than it can write. BenchmarkPaced runs floor/file,
// rankscope and zap at [PacedRate] inferences a second from one
// goroutine, in bursts of [PacedBurst] with a sleep between them: the
// caller's time per inference and the CPU per inference when the stack
// keeps up, as a service at that rate sees them.
//
// docs/design/peerbench.md says why this is like for like, where it is
// not, and holds the figures of one run.
//
// # Why a nested module
//
// zap and the OTel stdout exporters are peers, not dependencies of the
// library: in their own module (with replace github.com/rankscope/rankscope
// => ../..) they never enter a user's go.mod.
//
// # Running
//
//	cd internal/peerbench
//	go test -run '^$' -bench . -benchtime 20000x -count 1        # a quick look
//	go test -run '^$' -bench . -benchtime 1s -cpu 1,2 -count 3   # rounds back to back
//	go test -run '^$' -bench . -benchtime 1s -cpu 1,2 -rounds 3  # the README's run: rounds interleaved
//	go test -run '^$' -bench Paced -benchtime 1s -cpu 1,2 -count 3 # the paced mode alone
//	go test -race -run TestDelivery                         # the harness check
//
// After the benchmarks, TestMain prints a summary table and the ratios of
// this run (medians of the rounds), with the lowest and highest
// rankscope/block ÷ zap over the rounds and the paced caller's time in
// its fastest and slowest rounds. Disk use is about b.N x 1-5 KB per benchmark, in a temporary
// directory removed after each run.
//
// # Concurrency
//
// A [Sink]'s Infer is safe for concurrent use; Close and Delivered are
// called once, after the last Infer. A [Caller] belongs to one goroutine.
package peerbench
