package parquet

import "github.com/rankscope/rankscope/exporters/file"

// The file reader reads ".parquet" files once this package is linked in:
// file.ReadDir walks the partition tree and calls ReadFile for each.
func init() { file.RegisterFormat(Ext, ReadFile) }
