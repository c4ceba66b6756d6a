package segment_test

import (
	"fmt"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

func Example() {
	keyer, err := segment.NewKeyer(segment.Config{Experiment: "ranker-v2"})
	if err != nil {
		panic(err)
	}
	im := &personalize.Impression{
		Surface:     "home",
		SessionID:   personalize.Pseudonym{ID: "s-1"},
		Context:     []personalize.Attr{{Key: personalize.AttrDevice, Value: "mobile"}, {Key: personalize.AttrRegion, Value: "eu"}},
		Experiments: []personalize.Assignment{{Experiment: "ranker-v2", Variant: "treatment"}},
	}
	key := keyer.Key(im)
	fmt.Println(key)
	fmt.Println(key.Project(segment.DimDevice | segment.DimArm))
	fmt.Println(keyer.Key(im).SessionLength) // second impression of the session
	// Output:
	// device=mobile,region=eu,surface=home,session=1,arm=ranker-v2/treatment
	// device=mobile,arm=ranker-v2/treatment
	// 2-3
}
