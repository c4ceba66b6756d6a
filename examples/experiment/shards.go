package main

import (
	"hash/fnv"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
)

// shardedState reads the event files of dir with file.ReadLines, as the
// single-collector path does, but routes each line to one of n collectors
// by a hash of its user pseudonym, as a fleet's workers would each see one
// partition. Each collector's State goes through MarshalBinary and
// UnmarshalBinary, as it would between processes, and the decoded states
// are merged. It returns the merged state, the summed counters, the
// reader's stats and the serialized bytes.
func shardedState(dir string, n int, cfg experiment.CollectorConfig) (*experiment.State, experiment.CollectorStats, file.ReadStats, int, error) {
	var total experiment.CollectorStats
	cs := make([]*experiment.Collector, n)
	for i := range cs {
		c, err := experiment.NewCollector(cfg)
		if err != nil {
			return nil, total, file.ReadStats{}, 0, err
		}
		cs[i] = c
	}
	rs, err := file.ReadLines(dir, func(line []byte) error {
		_ = cs[shardOf(line, n)].AddLine(line) // malformed lines are counted by the collector
		return nil
	})
	if err != nil {
		return nil, total, rs, 0, err
	}
	merged := &experiment.State{Metrics: cfg.Metrics}
	size := 0
	for _, c := range cs {
		s := c.Stats()
		total.Lines += s.Lines
		total.Events += s.Events
		total.Impressions += s.Impressions
		total.Exposures += s.Exposures
		total.Outcomes += s.Outcomes
		total.Malformed += s.Malformed
		b, err := c.State().MarshalBinary()
		if err != nil {
			return nil, total, rs, 0, err
		}
		size += len(b)
		var d experiment.State
		if err := d.UnmarshalBinary(b); err != nil {
			return nil, total, rs, 0, err
		}
		if err := merged.Merge(&d); err != nil {
			return nil, total, rs, 0, err
		}
	}
	return merged, total, rs, size, nil
}

// shardOf picks the shard of an event line by FNV-1a of its user
// pseudonym; lines that do not decode, or have no user, go to shard 0.
func shardOf(line []byte, n int) int {
	e, err := personalize.UnmarshalEvent(line)
	if err != nil {
		return 0
	}
	var user string
	switch {
	case e.Impression != nil:
		user = e.Impression.UserID.ID
	case e.Outcome != nil:
		user = e.Outcome.UserID.ID
	case e.Exposure != nil:
		user = e.Exposure.UserID.ID
	case e.Link != nil:
		user = e.Link.UserID.ID
	}
	h := fnv.New32a()
	h.Write([]byte(user))
	return int(h.Sum32() % uint32(n))
}
