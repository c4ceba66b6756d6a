package main

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
)

// shardedState reads the event files of dir the way Collector.ReadDir does
// (".jsonl" and ".jsonl.open" files in name order, an unterminated last
// line counted as torn) but routes each line to one of n collectors by a
// hash of its user pseudonym, as a fleet's workers would each see one
// partition. Each collector's State goes through MarshalBinary and
// UnmarshalBinary, as it would between processes, and the decoded states
// are merged. It returns the merged state, the summed counters and the
// serialized bytes.
func shardedState(dir string, n int, cfg experiment.CollectorConfig) (*experiment.State, experiment.CollectorStats, int, error) {
	var total experiment.CollectorStats
	cs := make([]*experiment.Collector, n)
	for i := range cs {
		c, err := experiment.NewCollector(cfg)
		if err != nil {
			return nil, total, 0, err
		}
		cs[i] = c
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, total, 0, fmt.Errorf("read dir: %w", err)
	}
	var names []string
	for _, e := range ents {
		if nm := e.Name(); e.Type().IsRegular() && (strings.HasSuffix(nm, ".jsonl") || strings.HasSuffix(nm, ".jsonl.open")) {
			names = append(names, nm)
		}
	}
	slices.Sort(names)
	for _, nm := range names {
		f, err := os.Open(filepath.Join(dir, nm))
		if err != nil {
			return nil, total, 0, err
		}
		br := bufio.NewReaderSize(f, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if err == io.EOF {
				if len(bytes.TrimSpace(line)) > 0 {
					total.TornLines++
				}
				break
			}
			if err != nil {
				f.Close()
				return nil, total, 0, err
			}
			total.Lines++
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			line = line[:len(line)-1]
			_ = cs[shardOf(line, n)].AddLine(line) // malformed lines are counted by the collector
		}
		f.Close()
	}

	merged := &experiment.State{Metrics: cfg.Metrics}
	size := 0
	for _, c := range cs {
		s := c.Stats()
		total.Events += s.Events
		total.Impressions += s.Impressions
		total.Exposures += s.Exposures
		total.Outcomes += s.Outcomes
		total.Malformed += s.Malformed
		b, err := c.State().MarshalBinary()
		if err != nil {
			return nil, total, 0, err
		}
		size += len(b)
		var d experiment.State
		if err := d.UnmarshalBinary(b); err != nil {
			return nil, total, 0, err
		}
		if err := merged.Merge(&d); err != nil {
			return nil, total, 0, err
		}
	}
	return merged, total, size, nil
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
