package retry_test

import (
	"fmt"
	"time"

	"github.com/rankscope/rankscope/internal/retry"
)

func ExamplePolicy_Delay() {
	p, err := retry.Policy{InitialInterval: 50 * time.Millisecond, MaxInterval: time.Second}.Normalize("example")
	if err != nil {
		panic(err)
	}
	for n := 1; n <= 6; n++ {
		fmt.Println(p.Delay(n))
	}
	// Output:
	// 50ms
	// 100ms
	// 200ms
	// 400ms
	// 800ms
	// 1s
}
