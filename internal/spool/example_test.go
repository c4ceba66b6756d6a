package spool_test

import (
	"fmt"
	"os"

	"github.com/rankscope/rankscope/internal/spool"
)

func Example() {
	dir, _ := os.MkdirTemp("", "spool")
	defer os.RemoveAll(dir)
	s, err := spool.Open(spool.Config{Dir: dir, MaxFiles: 2})
	if err != nil {
		panic(err)
	}
	for _, key := range []string{"a", "b", "c"} {
		evicted, _ := s.Put(key, 10, []byte(`{"event":1}`))
		for _, e := range evicted {
			fmt.Println("evicted", e.Key, "with", e.Events, "events")
		}
	}
	e, _ := s.Oldest()
	fmt.Println("oldest", e.Key, s.Usage().Files)
	// Output:
	// evicted a with 10 events
	// oldest b 2
}
