package schema_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rankscope/rankscope/personalize/schema"
)

func TestImpressionLookups(t *testing.T) {
	im := &schema.Impression{
		Stages:      []schema.StageTiming{{Name: "a", Duration: time.Millisecond}, {Name: "b"}, {Name: "a", Duration: time.Second}},
		Experiments: []schema.Assignment{{Experiment: "e", Variant: "v"}},
		Context:     []schema.Attr{{Key: schema.AttrDevice, Value: "ios"}},
	}
	s, ok := im.Stage("a")
	assert.True(t, ok)
	assert.Equal(t, time.Millisecond, s.Duration, "the first stage of that name")
	_, ok = im.Stage("c")
	assert.False(t, ok)
	assert.Equal(t, "v", im.Variant("e"))
	assert.Equal(t, "", im.Variant("x"))
	assert.Equal(t, "ios", im.Attr(schema.AttrDevice))
}
