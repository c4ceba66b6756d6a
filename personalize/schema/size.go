package schema

// MaxEventBytes is the largest event the pipeline accepts, measured as its
// JSON line ([AppendJSON], newline excluded): 4 MiB. It is one limit for
// the whole path: emits refuse a larger event with a *ValidationError on
// field "size" (reason "too_large"), and readers of event files accept
// lines up to this size by default, so everything the pipeline writes can
// be read back. 4 MiB is also gRPC's default largest message, so one
// accepted event always fits in an OTLP request (docs/SCHEMA.md, "Limits").
const MaxEventBytes = 4 << 20

// sizeMargin covers what a pipeline adds after the check: event id and
// pseudonyms with their key ids.
const sizeMargin = 1 << 10

// CheckSize refuses an event whose encoding would exceed MaxEventBytes.
// Ordinary events are cleared by a cheap upper bound (every string byte
// escaped as \u00XX, generous constants per field); only events near the
// limit are encoded to measure them.
func CheckSize(ev *Event) error {
	if sizeBound(ev) <= MaxEventBytes-sizeMargin {
		return nil
	}
	b, err := AppendJSON(nil, *ev)
	if err != nil || len(b) <= MaxEventBytes-sizeMargin {
		return nil
	}
	return &ValidationError{Event: ev.Type, Field: "size", Reason: "too_large",
		Detail: "encoded event exceeds personalize.MaxEventBytes (4 MiB)"}
}

// sizeBound is an upper bound of the encoded size of ev's payload.
func sizeBound(ev *Event) int {
	const esc = 6    // worst-case bytes per string byte (\u00XX)
	const field = 64 // key, quotes, punctuation and a number or time
	switch {
	case ev.Impression != nil:
		im := ev.Impression
		n := 20*field + esc*(len(im.RequestID)+len(im.Service)+len(im.Surface)+len(im.Channel)+
			len(im.Model)+len(im.ModelVersion)+len(im.FeatureSet)+len(im.ErrorType))
		for _, a := range im.Experiments {
			n += 2*field + esc*(len(a.Experiment)+len(a.Variant))
		}
		for _, f := range im.Flags {
			n += 2*field + esc*(len(f.Key)+len(f.Variant))
		}
		for _, a := range im.Context {
			n += field + esc*(len(a.Key)+len(a.Value))
		}
		for i := range im.Items {
			it := &im.Items[i]
			n += 6*field + esc*(len(it.ID)+len(it.Category)+len(it.Provider))
		}
		for i := range im.Stages {
			s := &im.Stages[i]
			n += 5*field + esc*(len(s.Name)+len(s.Detail))
		}
		return n
	case ev.Outcome != nil:
		o := ev.Outcome
		return 20*field + esc*(len(o.RequestID)+len(o.Item)+len(o.Name)+len(o.Currency)+
			len(o.Channel)+len(o.Surface)+len(o.Service))
	case ev.Exposure != nil:
		x := ev.Exposure
		return 12*field + esc*(len(x.Experiment)+len(x.Variant)+len(x.Surface)+len(x.Service))
	case ev.Link != nil:
		return 12*field + esc*len(ev.Link.Service)
	case ev.Model != nil:
		m := ev.Model
		return 12*field + esc*(len(m.Service)+len(m.Model)+len(m.Version)+len(m.FeatureSet)+
			len(m.FeatureHash)+len(m.TrainingSnapshot)+len(m.Owner))
	}
	return 0
}
