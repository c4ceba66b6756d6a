// Package shed keeps the inference of a request shed at Start in the
// context, for the middleware packages: personalize.Start returns the
// context unchanged for those, so personalize.FromContext finds nothing.
package shed

import (
	"context"

	"github.com/rankscope/rankscope/personalize"
)

type key struct{}

// Context returns ctx carrying inf when personalize.FromContext(ctx) does
// not find it (the inference was shed at Start), and ctx unchanged
// otherwise.
func Context(ctx context.Context, inf *personalize.Inference) context.Context {
	if personalize.FromContext(ctx) == inf {
		return ctx
	}
	return context.WithValue(ctx, key{}, inf)
}

// Inference returns personalize.FromContext(ctx), or the shed inference
// Context stored, or nil.
func Inference(ctx context.Context) *personalize.Inference {
	if inf := personalize.FromContext(ctx); inf != nil {
		return inf
	}
	inf, _ := ctx.Value(key{}).(*personalize.Inference)
	return inf
}

// MaxRequestIDLen bounds the request ids read back from clients.
const MaxRequestIDLen = 128

// ValidRequestID reports whether id, sent back by a client, is 1 to
// MaxRequestIDLen bytes of visible ASCII.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
