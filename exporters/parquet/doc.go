// Package parquet writes rankscope events as Parquet files in Hive-style
// partitions, beside or instead of JSON lines, for warehouses (DuckDB,
// ClickHouse, Spark, Trino, BigQuery) to query where they are; and reads
// them back.
//
// # Layout
//
// [New] returns an [Exporter] (a personalize.Exporter named "parquet")
// that writes each event to the partition of its event time in UTC (the
// end of the inference for an impression):
//
//	<Dir>/dt=2026-11-02/hour=09/events-20261102T091500.000000000Z-000003.parquet
//	<Dir>/dt=2026-11-02/hour=09/.events-20261102T093000.000000000Z-000004.parquet.open
//
// One wide table holds the five event types (a type column); the schema,
// one column per JSON field of docs/SCHEMA.md, is described in that
// document's "Parquet" section and returned by [Columns] and
// [SchemaString]. Every row carries schema_version, and every file the
// key/value metadata [MetadataSchemaVersion].
//
// # Writing
//
// Each partition being written has one open file, under a hidden name
// ("." + final name + ".open") that Spark, DuckDB and ClickHouse globs
// skip. A file is finished (its last row group and footer written,
// synced, renamed to its final name, the directory synced) when it is
// Config.MaxAge old (default 15 minutes; checked on Export and
// ForceFlush), when its row groups reach Config.MaxBytes (default 256
// MiB), when Config.MaxOpenFiles (default 4) other partitions are being
// written and it is the least recently written, and on ForceFlush and
// Shutdown. Only finished files are readable: a Parquet footer comes
// last, so the rows of a file a crash leaves behind are lost (the
// ".open" file can be deleted). Rows are therefore durable at file
// granularity: call ForceFlush to make everything exported so far
// readable (at the cost of smaller files).
//
// # Memory
//
// Export encodes the batch into rows outside the lock (the batch's
// values, pooled) and appends them to the open files. Each open file
// buffers at most Config.RowGroupRows rows (default 4096) in the Parquet
// library's column buffers before writing them out as a compressed row
// group, so the exporter holds at most MaxOpenFiles x RowGroupRows rows.
// BenchmarkExport measures about 2 KB of heap per buffered row of random
// events (70% impressions of 1 to 20 items): about 8 MiB per open file
// and 32 MiB at most with the defaults. A finished file takes about 310
// bytes per such row. Writers of finished files are reused for new files
// (at most MaxOpenFiles kept), and pages are snappy-compressed: zstd
// gave 30% smaller files but each zstd encoder holds megabytes of tables,
// which with many small files (a replay spanning many hours) cost more
// memory and CPU than the rows.
//
// # Errors and accounting
//
// Every error Export returns is a *[WriteError] saying how many events of
// the batch are in files (Written; its Delivered method returns it) and
// how many are not (Failed). A file whose write or finish fails is
// removed; rows of earlier batches lost with it are reported in a
// *[LostError]. [Exporter.Stats] keeps Exported (rows in finished files),
// Pending (rows in open files) and Failed; their sum is the events passed
// to Export. Dead letters (Event.Invalid set) are refused: the file
// exporter writes them.
//
// # Reading
//
// [ReadFile] streams one file's events, validated as the JSON decoder
// validates lines. Importing this package registers ".parquet" with
// exporters/file (file.RegisterFormat), so file.ReadDir over Config.Dir
// walks the partitions and reads every finished file, in path (time)
// order. A corrupt file gives a *[FileError] or a *[RowError], never a
// panic; page sizes and value counts are checked against [MaxPageBytes],
// [MaxPageValues] and [MaxRowGroupPageBytes] before any page is read.
//
// # Concurrency
//
// An [Exporter] is safe for concurrent use: Export, ForceFlush, Shutdown
// and Stats may run at the same time. ReadFile may run on several files
// at once.
package parquet
