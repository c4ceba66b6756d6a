package experiment

import (
	"time"

	"github.com/rankscope/rankscope/internal/exactsum"
	"github.com/rankscope/rankscope/internal/statecodec"
	"github.com/rankscope/rankscope/personalize"
)

// The binary encoding of a State: magic "RSEX", version byte, then the
// metrics (name, kind, custom name, aggregate), and per experiment its
// name, exposure bounds (unix ns, each after a zero-time flag),
// conflicts and arms; per arm the variant, units and per metric the count
// and the five exact sums (internal/exactsum's canonical encoding).
// Integers are minimal uvarints or zigzag varints. Equal states encode to
// equal bytes.
const (
	stateMagic   = "RSEX"
	stateVersion = 1
	// Bounds the decoder enforces: each is far above real use and keeps a
	// hostile input from asking for much memory.
	maxStateName        = 1 << 12
	maxStateMetrics     = 1 << 8
	maxStateExperiments = 1 << 16
	maxStateArms        = 1 << 16
)

// MarshalBinary encodes the state (see [State.UnmarshalBinary]). It fails
// on an invalid state.
func (s *State) MarshalBinary() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	w := statecodec.Writer{}
	w.Header(stateMagic, stateVersion)
	w.Uint(uint64(len(s.Metrics)))
	for _, m := range s.Metrics {
		w.String(m.Name)
		w.Uint(uint64(m.Kind))
		w.String(m.Custom)
		w.Uint(uint64(m.Aggregate))
	}
	w.Uint(uint64(len(s.Experiments)))
	for i := range s.Experiments {
		e := &s.Experiments[i]
		w.String(e.Name)
		writeTime(&w, e.FirstExposure)
		writeTime(&w, e.LastExposure)
		w.Uint(uint64(e.Conflicts))
		w.Uint(uint64(len(e.Arms)))
		for j := range e.Arms {
			a := &e.Arms[j]
			w.String(a.Variant)
			w.Uint(uint64(a.Units))
			for k := range a.Metrics {
				sm := &a.Metrics[k]
				w.Uint(uint64(sm.n))
				for _, x := range []*exactsum.Sum{&sm.y, &sm.yy, &sm.x, &sm.xx, &sm.xy} {
					w.Sum(x)
				}
			}
		}
	}
	return w.B, nil
}

func writeTime(w *statecodec.Writer, t time.Time) {
	w.Bool(t.IsZero())
	if !t.IsZero() {
		w.Int(t.UnixNano())
	}
}

func readTime(r *statecodec.Reader, field string) time.Time {
	if r.Bool(field + ".zero") {
		return time.Time{}
	}
	return time.Unix(0, r.Int(field)).UTC()
}

// UnmarshalBinary decodes a state written by [State.MarshalBinary],
// replacing s. It rejects truncated, oversized, non-canonical or invalid
// input with an error naming the field, and another magic or version.
func (s *State) UnmarshalBinary(data []byte) error {
	r, err := statecodec.NewReader(data, "experiment.State", stateMagic, stateVersion)
	if err != nil {
		return err
	}
	var st State
	nm := r.Count("Metrics", 4, maxStateMetrics)
	for i := 0; i < nm && r.Err() == nil; i++ {
		f := "Metrics[" + itoa(i) + "]"
		m := Metric{Name: r.String(f+".Name", maxStateName)}
		m.Kind = personalize.OutcomeKind(min(r.Uint(f+".Kind"), 255))
		m.Custom = r.String(f+".Custom", maxStateName)
		m.Aggregate = Aggregate(min(r.Uint(f+".Aggregate"), 255))
		st.Metrics = append(st.Metrics, m)
	}
	ne := r.Count("Experiments", 6, maxStateExperiments)
	for i := 0; i < ne && r.Err() == nil; i++ {
		f := "Experiments[" + itoa(i) + "]"
		e := ExperimentState{Name: r.String(f+".Name", maxStateName)}
		e.FirstExposure = readTime(r, f+".FirstExposure")
		e.LastExposure = readTime(r, f+".LastExposure")
		e.Conflicts = int64(min(r.Uint(f+".Conflicts"), 1<<62))
		na := r.Count(f+".Arms", 2+len(st.Metrics)*16, maxStateArms)
		for j := 0; j < na && r.Err() == nil; j++ {
			fa := f + ".Arms[" + itoa(j) + "]"
			a := ArmState{Variant: r.String(fa+".Variant", maxStateName)}
			a.Units = int64(min(r.Uint(fa+".Units"), 1<<62))
			a.Metrics = make([]Sums, len(st.Metrics))
			for k := range a.Metrics {
				fm := fa + ".Metrics[" + itoa(k) + "]"
				sm := &a.Metrics[k]
				sm.n = int64(min(r.Uint(fm+".N"), 1<<62))
				sm.y = r.Sum(fm + ".Sum")
				sm.yy = r.Sum(fm + ".SumSquares")
				sm.x = r.Sum(fm + ".CovariateSum")
				sm.xx = r.Sum(fm + ".CovariateSumSquares")
				sm.xy = r.Sum(fm + ".SumProducts")
			}
			e.Arms = append(e.Arms, a)
		}
		st.Experiments = append(st.Experiments, e)
	}
	if err := r.End(); err != nil {
		return err
	}
	if err := st.Validate(); err != nil {
		return err
	}
	*s = st
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
