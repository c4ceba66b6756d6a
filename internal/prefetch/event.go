package prefetch

import (
	"unsafe"

	"github.com/rankscope/rankscope/personalize/schema"
)

// Ahead hints that the impressions after batch[i] will be read soon, for
// an encoder about to encode batch[i]: the Impression struct of batch[i+2]
// and the stage timings and items of batch[i+1]. The second needs the
// slice headers in batch[i+1]'s Impression, which the call for i-1 asked
// for, so by now they are usually in cache and reading them does not
// wait. Strings the impression points to (item ids) are left out: a
// service's ids are usually shared between requests and already cached.
// Other events than impressions are small and are left out too.
func Ahead(batch []schema.Event, i int) {
	if j := i + 2; j < len(batch) {
		if im := batch[j].Impression; im != nil {
			Lines(unsafe.Pointer(im), unsafe.Sizeof(*im))
		}
	}
	if j := i + 1; j < len(batch) {
		if im := batch[j].Impression; im != nil {
			if n := len(im.Stages); n > 0 {
				Lines(unsafe.Pointer(unsafe.SliceData(im.Stages)), uintptr(n)*unsafe.Sizeof(im.Stages[0]))
			}
			if n := len(im.Items); n > 0 {
				Lines(unsafe.Pointer(unsafe.SliceData(im.Items)), uintptr(n)*unsafe.Sizeof(im.Items[0]))
			}
		}
	}
}
