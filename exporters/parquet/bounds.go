package parquet

import (
	"bytes"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Bounds of what ReadFile accepts, checked on the file's metadata and
// page headers before any page is read. The Parquet library allocates
// each page's buffers from the sizes and counts its header claims, so a
// corrupt or hostile file could otherwise make a small file cost
// gigabytes. The writers rankscope meets stay far below: this package
// writes pages of at most 256 KiB before compression and row groups of
// Config.RowGroupRows; DuckDB and Spark write pages of about 1 MiB.
const (
	// MaxPageBytes bounds a page, compressed and uncompressed.
	MaxPageBytes = 16 << 20
	// MaxPageValues bounds the values (levels included) of one page.
	MaxPageValues = 1 << 20
	// MaxRowGroupPageBytes bounds the sum over a row group's columns of
	// each column's largest page: the pages the reader holds at once.
	MaxRowGroupPageBytes = 128 << 20
)

// pageHeaderWindow is how many bytes a page header is decoded from; a
// header (with its statistics) that does not fit is refused.
const pageHeaderWindow = 64 << 10

// checkBounds walks the page headers of every column chunk of md and
// returns a *FileError if the file breaks a bound or a chunk or page lies
// outside the file.
func checkBounds(path string, r io.ReaderAt, size int64, md *format.FileMetaData) error {
	fail := func(format string, args ...any) error {
		return &FileError{File: path, Err: fmt.Errorf(format, args...)}
	}
	buf := make([]byte, pageHeaderWindow)
	for g, rg := range md.RowGroups {
		var held int64
		for c := range rg.Columns {
			meta := &rg.Columns[c].MetaData
			start := meta.DataPageOffset
			if meta.DictionaryPageOffset > 0 && meta.DictionaryPageOffset < start {
				start = meta.DictionaryPageOffset
			}
			end := start + meta.TotalCompressedSize
			if start < 4 || meta.TotalCompressedSize < 0 || end > size || end < start {
				return fail("row group %d, column chunk %d: bytes [%d, %d) outside the file of %d bytes", g, c, start, end, size)
			}
			var largest int64
			for pos := start; pos < end; {
				n := min(int64(len(buf)), end-pos)
				if _, err := r.ReadAt(buf[:n], pos); err != nil {
					return &FileError{File: path, Err: err}
				}
				var h format.PageHeader
				var proto thrift.CompactProtocol
				rd := proto.NewReaderFromBytes(buf[:n])
				if err := thrift.NewDecoder(rd).Decode(&h); err != nil {
					return fail("row group %d, column chunk %d: page header at %d: %v", g, c, pos, err)
				}
				hlen := n - int64(rd.Reader().(*bytes.Reader).Len())
				comp, uncomp := int64(h.CompressedPageSize), int64(h.UncompressedPageSize)
				values := int64(0)
				if v, ok := h.DataPageHeader.Get(); ok {
					values = int64(v.NumValues)
				}
				if v, ok := h.DataPageHeaderV2.Get(); ok {
					values = max(int64(v.NumValues), int64(v.NumRows))
				}
				if v, ok := h.DictionaryPageHeader.Get(); ok {
					values = int64(v.NumValues)
				}
				switch {
				case comp < 0 || uncomp < 0 || comp > MaxPageBytes || uncomp > MaxPageBytes:
					return fail("row group %d, column chunk %d: page at %d claims %d bytes (%d uncompressed), more than %d", g, c, pos, comp, uncomp, MaxPageBytes)
				case values < 0 || values > MaxPageValues:
					return fail("row group %d, column chunk %d: page at %d claims %d values, more than %d", g, c, pos, values, MaxPageValues)
				case pos+hlen+comp > end:
					return fail("row group %d, column chunk %d: page at %d ends past its chunk", g, c, pos)
				}
				largest = max(largest, comp+uncomp)
				pos += hlen + comp
			}
			held += largest
		}
		if held > MaxRowGroupPageBytes {
			return fail("row group %d: its largest pages take %d bytes, more than %d", g, held, MaxRowGroupPageBytes)
		}
	}
	return nil
}
