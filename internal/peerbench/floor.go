package peerbench

import (
	"time"
)

// floor is the least any contender must do: read the clock five times,
// pseudonymize the user, and hand a small event to another goroutine,
// which discards it. It writes nothing to disk; Delivered counts the
// events the goroutine received.
type floor struct {
	ch   chan floorEvent
	done chan struct{}
	got  int64 // written by the consumer, read after done
}

type floorEvent struct {
	reqID, user string
	stages      [3]time.Duration
	total       time.Duration
}

// OpenFloor starts the floor's consumer goroutine. dir is unused.
func OpenFloor(string) (Sink, error) {
	s := &floor{ch: make(chan floorEvent, 8192), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for range s.ch {
			s.got++
		}
	}()
	return s, nil
}

func (s *floor) Infer(c *Caller) error {
	reqID, user := c.Next()
	t0 := time.Now()
	// feature_retrieval
	t1 := time.Now()
	// model_scoring
	t2 := time.Now()
	// network
	t3 := time.Now()
	ev := floorEvent{reqID: reqID, user: Pseudonym(user),
		stages: [3]time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)}}
	ev.total = time.Since(t0)
	s.ch <- ev // blocks when the consumer is behind: nothing is lost
	return nil
}

func (s *floor) Close() error {
	close(s.ch)
	<-s.done
	return nil
}

func (s *floor) Delivered() (events, bytes int64, err error) { return s.got, 0, nil }
