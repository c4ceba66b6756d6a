package personalize

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/rankscope/rankscope/latency"
)

// MaxRegisteredModels bounds the (model, version, feature hash) triples
// an Instrument remembers as registered: 1024. Past it the oldest is
// forgotten, so a triple registered again after 1024 newer ones is
// emitted again (a duplicate record, which readers join as one). It also
// bounds Config.Models.
const MaxRegisteredModels = 1024

// modelKey identifies one lineage record.
type modelKey struct{ model, version, hash string }

// modelRegistry remembers the triples emitted, oldest first in a ring.
type modelRegistry struct {
	mu   sync.Mutex
	seen map[modelKey]struct{}
	ring []modelKey
	next int
}

func (r *modelRegistry) add(k modelKey) {
	if r.seen == nil {
		r.seen = make(map[modelKey]struct{})
	}
	if len(r.ring) < MaxRegisteredModels {
		r.ring = append(r.ring, k)
	} else {
		delete(r.seen, r.ring[r.next])
		r.ring[r.next] = k
		r.next = (r.next + 1) % MaxRegisteredModels
	}
	r.seen[k] = struct{}{}
}

// RegisterModel emits m, a model version's lineage record (event type
// "model"), so readers can say which feature definitions and training
// data produced the impressions naming m.Model and m.Version. m.Time
// defaults to now; Service and EventID are set by the pipeline.
//
// It emits once per (Model, Version, FeatureHash) per Instrument:
// registering a triple again is a no-op returning nil (the first record
// wins; its other fields are not compared). The same model and version
// with a different feature hash is a new record, emitted too; the report
// flags the conflict. An invalid m returns a *ValidationError naming the
// field (model, model_version and feature_hash are required, the hash
// lower-case hex), counted in Stats.Rejected like any refused event; a
// refusal at a full queue returns the emit's error and the triple is not
// remembered, so it can be registered again. Accepted records are counted
// in Stats.Accepted and Stats.Models.
//
// A model record carries no personal data: it is not pseudonymized,
// consent and opt-out do not apply to it, and it goes to every exporter.
// Safe for concurrent use; registrations are serialized (they are rare).
func (in *Instrument) RegisterModel(_ context.Context, m ModelMetadata) error {
	if m.Time.IsZero() {
		m.Time = latency.Now()
	}
	k := modelKey{m.Model, m.Version, m.FeatureHash}
	r := &in.models
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[k]; ok {
		return nil
	}
	if err := in.emit(Event{Type: EventModel, Model: &m}); err != nil {
		return err
	}
	r.add(k)
	return nil
}

// checkConfigModels validates Config.Models before New starts anything.
func checkConfigModels(ms []ModelMetadata) error {
	if len(ms) > MaxRegisteredModels {
		return errors.New("personalize: Config.Models: " + strconv.Itoa(len(ms)) + " records, at most MaxRegisteredModels (" +
			strconv.Itoa(MaxRegisteredModels) + ")")
	}
	for i := range ms {
		if err := ms[i].Validate(); err != nil {
			return fmt.Errorf("personalize: Config.Models[%d]: %w", i, err)
		}
	}
	return nil
}

// registerConfigModels registers Config.Models on a running instrument;
// on failure it shuts the instrument down (New then fails).
func (in *Instrument) registerConfigModels() error {
	for i, m := range in.cfg.Models {
		if err := in.RegisterModel(context.Background(), m); err != nil {
			_ = in.Shutdown(context.Background())
			return fmt.Errorf("personalize: Config.Models[%d]: %w", i, err)
		}
	}
	return nil
}
