package kafka

import (
	"errors"
	"testing"
)

// A record settling on the client's promise goroutine moves from Pending
// to Delivered or Dropped as one step for Stats: the identity
// Accepted == Delivered + Dropped + Pending holds in every snapshot taken
// while no Export encodes, even with records settling after their Export
// returned (as they do when a broker dies; TestBrokerStaysDead in
// internal/kafkatest saw one event missing from a snapshot).
func TestStatsSnapshotWhileRecordsSettle(t *testing.T) {
	const n = 200_000
	e := &Exporter{freed: make(chan struct{}, 1)}
	e.c.accepted.Store(n)
	e.c.pending.Store(n)
	f := &flight{e: e, left: n, done: make(chan struct{})}
	failed := errors.New("broker gone")
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		for i := range n {
			if i%2 == 0 {
				f.promise(nil, nil)
			} else {
				f.promise(nil, failed)
			}
		}
	}()
	for snapshots := 0; ; snapshots++ {
		select {
		case <-settled:
			st := e.Stats()
			if st.Pending != 0 || st.Delivered != n/2 || st.TotalDropped() != n/2 {
				t.Fatalf("after settling: %+v", st)
			}
			t.Logf("%d snapshots", snapshots)
			return
		default:
		}
		st := e.Stats()
		if st.Accepted != st.Delivered+st.TotalDropped()+uint64(st.Pending) {
			t.Fatalf("snapshot %d: Accepted %d != Delivered %d + Dropped %d + Pending %d",
				snapshots, st.Accepted, st.Delivered, st.TotalDropped(), st.Pending)
		}
	}
}
