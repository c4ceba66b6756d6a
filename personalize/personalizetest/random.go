package personalizetest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
)

// BaseTime is the earliest time [RandomEvents] and [RandomEvent] give an
// event: 2026-11-02T09:00:00Z. Generated times fall within a day after it.
var BaseTime = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// Users is the number of distinct users the generators draw from. User i
// has the raw id [RawUserID](i) and the pseudonym [UserPseudonym](i).
const Users = 1000

// RawUserID returns the raw identifier of synthetic user i, in the form
// "user-000123" the quickstart uses. Generated events never carry it in an
// exported field; [RawIDEvents] puts it in the raw fields exporters must
// not write.
func RawUserID(i int) string { return fmt.Sprintf("user-%06d", i) }

// RawSessionID returns the raw identifier of session s of user i.
func RawSessionID(i, s int) string { return fmt.Sprintf("sess-%06d-%02d", i, s) }

// UserPseudonym returns the pseudonym generated events carry for user i:
// 32 hex digits derived from i by a fixed mixing function (not a keyed
// hash: test data only) and the key id "k2026a".
func UserPseudonym(i int) personalize.Pseudonym {
	return personalize.Pseudonym{ID: mixHex(uint64(i), 0x75736572), KeyID: "k2026a"}
}

// SessionPseudonym returns the pseudonym generated events carry for
// session s of user i.
func SessionPseudonym(i, s int) personalize.Pseudonym {
	return personalize.Pseudonym{ID: mixHex(uint64(i)<<8|uint64(s), 0x73657373), KeyID: "k2026a"}
}

// mixHex returns 32 hex digits from two rounds of the splitmix64 finalizer.
func mixHex(x, salt uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], splitmix(x^salt))
	binary.BigEndian.PutUint64(b[8:], splitmix(x+salt))
	return hex.EncodeToString(b[:])
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// RandomEvents returns n valid, exported-shape events drawn from rng:
// about 70% impressions (1 to 20 items, three stages, experiments, flags
// and context; a third of them explain their top three items), 20%
// outcomes of every kind, 5% exposures and 5% links.
// Times increase from a random point of the day after [BaseTime]; ids are
// pseudonyms (see [UserPseudonym]); event ids are UUIDv7 built from rng,
// so the result is deterministic for a seeded rng. Every event passes
// [personalize.Event.Validate] and survives a JSON round trip unchanged.
func RandomEvents(rng *rand.Rand, n int) []personalize.Event {
	out := make([]personalize.Event, n)
	t := BaseTime.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
	for i := range out {
		t = t.Add(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
		var typ personalize.EventType
		switch r := rng.IntN(100); {
		case r < 70:
			typ = personalize.EventImpression
		case r < 90:
			typ = personalize.EventOutcome
		case r < 95:
			typ = personalize.EventExposure
		default:
			typ = personalize.EventLink
		}
		out[i] = randomEventAt(rng, typ, t)
	}
	return out
}

// RandomEvent returns one valid event of type typ at a random time of the
// day after [BaseTime]. It panics on an unknown type (a bug in the test).
func RandomEvent(rng *rand.Rand, typ personalize.EventType) personalize.Event {
	t := BaseTime.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
	return randomEventAt(rng, typ, t)
}

// RandomImpression returns a valid impression ending at a random time with
// exactly items ranked items (positions 1..items).
func RandomImpression(rng *rand.Rand, items int) *personalize.Impression {
	t := BaseTime.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
	return randomImpression(rng, t, items)
}

func randomEventAt(rng *rand.Rand, typ personalize.EventType, t time.Time) personalize.Event {
	e := personalize.Event{Type: typ}
	switch typ {
	case personalize.EventImpression:
		e.Impression = randomImpression(rng, t, 1+rng.IntN(20))
		explain(e.Impression)
	case personalize.EventOutcome:
		e.Outcome = randomOutcome(rng, t)
	case personalize.EventExposure:
		u := rng.IntN(Users)
		e.Exposure = &personalize.Exposure{EventID: eventID(rng, t), Time: t, Service: "feed-ranker",
			UserID: UserPseudonym(u), Experiment: "ranker-v42", Variant: pick(rng, variants),
			Surface: pick(rng, surfaces)}
	case personalize.EventLink:
		u := rng.IntN(Users)
		e.Link = &personalize.Link{EventID: eventID(rng, t), Time: t, Service: "feed-ranker",
			UserID: UserPseudonym(u), SessionID: SessionPseudonym(u, rng.IntN(8))}
	case personalize.EventModel: // only on request: RandomEvents' mix is unchanged
		v := pick(rng, variants)
		e.Model = &personalize.ModelMetadata{EventID: eventID(rng, t), Time: t, Service: "feed-ranker",
			Model: "ranker", Version: v, FeatureSet: "fs-" + v,
			FeatureHash:      personalize.FeatureHash(map[string]string{"ctr": "clicks / views", "variant": v}),
			TrainingSnapshot: "snapshot-" + v, Owner: "ranking-team"}
		return e // no consent basis: a model record has none
	default:
		panic(fmt.Sprintf("personalizetest: RandomEvent: unknown event type %d", typ))
	}
	e.SetConsentBasis(basisOf(e.ID()))
	return e
}

// basisOf gives two events in three a consent basis derived from the event
// id (so the random streams of the generators stay as they were).
func basisOf(id personalize.EventID) string {
	return [...]string{"", "opt_in", "opt_out"}[id[14]%3]
}

var (
	surfaces  = []string{"home_feed", "search", "product_page", "email_digest"}
	channels  = []string{"app", "web", "email"}
	variants  = []string{"control", "treatment"}
	devices   = []string{"ios", "android", "desktop", "tablet"}
	regions   = []string{"eu-west", "us-east", "ap-south", "île-de-france"}
	locales   = []string{"en-GB", "fr-FR", "de-DE", "ja-JP"}
	stages    = []string{"feature_retrieval", "candidate_generation", "model_scoring"}
	details   = []string{"context.DeadlineExceeded", "cache_fallback", "*net.OpError"}
	customs   = []string{"add_to_cart", "share", "save_for_later"}
	providers = []string{"", "acme", "globex", "initech"}
)

func pick(rng *rand.Rand, s []string) string { return s[rng.IntN(len(s))] }

// eventID returns a UUIDv7 whose timestamp is t and whose random bits come
// from rng.
func eventID(rng *rand.Rand, t time.Time) personalize.EventID {
	var id personalize.EventID
	binary.BigEndian.PutUint64(id[8:], rng.Uint64())
	ms := uint64(t.UnixMilli())
	r := rng.Uint64()
	binary.BigEndian.PutUint64(id[:8], ms<<16|r&0xffff)
	id[6] = 0x70 | id[6]&0x0f // version 7
	id[8] = 0x80 | id[8]&0x3f // RFC 9562 variant
	return id
}

func randomImpression(rng *rand.Rand, end time.Time, nItems int) *personalize.Impression {
	u := rng.IntN(Users)
	im := &personalize.Impression{
		EventID:      eventID(rng, end),
		Service:      "feed-ranker",
		Surface:      pick(rng, surfaces),
		Channel:      pick(rng, channels[:2]),
		UserID:       UserPseudonym(u),
		Model:        "ranker",
		ModelVersion: pick(rng, []string{"v41", "v42"}),
		FeatureSet:   "fs-2026-11",
	}
	im.RequestID = im.EventID.String()
	if rng.IntN(10) < 8 {
		im.SessionID = SessionPseudonym(u, rng.IntN(8))
	}
	if rng.IntN(10) < 7 {
		im.Experiments = append(im.Experiments, personalize.Assignment{Experiment: "ranker-v42", Variant: pick(rng, variants)})
	}
	if rng.IntN(10) < 3 {
		im.Experiments = append(im.Experiments, personalize.Assignment{Experiment: "thumbnails", Variant: pick(rng, []string{"a", "b", "c"})})
	}
	if rng.IntN(10) < 4 {
		im.Flags = append(im.Flags, personalize.Flag{Key: "new_ui", Variant: pick(rng, []string{"on", "off"})})
	}
	if rng.IntN(10) < 9 {
		im.Context = []personalize.Attr{
			{Key: personalize.AttrDevice, Value: pick(rng, devices)},
			{Key: personalize.AttrRegion, Value: pick(rng, regions)},
		}
		if rng.IntN(2) == 0 {
			im.Context = append(im.Context, personalize.Attr{Key: personalize.AttrLocale, Value: pick(rng, locales)})
		}
	}
	im.Items = make([]personalize.Item, nItems)
	for i := range im.Items {
		it := &im.Items[i]
		it.ID = fmt.Sprintf("sku-%05d", rng.IntN(50000))
		it.Position = i + 1
		it.Score = math.Round(rng.NormFloat64()*1e6) / 1e6
		if rng.IntN(2) == 0 {
			// Position-based logging propensity in (0,1].
			it.Propensity = (1 + float64(rng.IntN(1000))) / 1000
		}
		it.Category = fmt.Sprintf("cat-%d", rng.IntN(12))
		it.Provider = pick(rng, providers)
	}
	var offset time.Duration
	for _, name := range stages {
		st := personalize.StageTiming{Name: name, Offset: offset,
			Duration: time.Duration(200_000 + rng.Int64N(20_000_000))}
		switch r := rng.IntN(100); {
		case r < 2:
			st.Status, st.Detail = personalize.StageTimeout, details[0]
		case r < 4:
			st.Status, st.Detail = personalize.StageFallback, details[1]
		case r < 5:
			st.Status, st.Detail = personalize.StageError, details[2]
		}
		im.Stages = append(im.Stages, st)
		offset += st.Duration + time.Duration(rng.Int64N(100_000))
	}
	im.Start = end.Add(-offset - time.Duration(rng.Int64N(500_000)))
	im.End = end
	if rng.IntN(100) == 0 {
		im.Status, im.ErrorType = personalize.StageError, "*url.Error"
	}
	im.TraceID, im.SpanID = traceOf(im.EventID)
	return im
}

// features are the feature names of random explanations.
var features = []string{"recency", "popularity", "same_category", "price", "affinity", "freshness"}

// explain gives about a third of impressions (chosen by event id, so the
// draws of rng and every other field stay as they were before
// explanations existed) one to three contributions on each of their top
// three items, derived from the event id and the item's position, as a
// service explains what sits above the fold. RandomImpression's
// impressions stay without, so benchmarks built on it keep their input.
func explain(im *personalize.Impression) {
	h := splitmix(uint64(im.EventID[15]) | uint64(im.EventID[14])<<8 | uint64(im.EventID[13])<<16)
	if h%3 != 0 {
		return
	}
	for i := range im.Items[:min(len(im.Items), 3)] {
		x := splitmix(h + uint64(i+1))
		n := 1 + int(x%3)
		first := int(x>>8) % len(features)
		ex := make([]personalize.Contribution, n)
		for j := range ex {
			v := float64(int64(splitmix(x+uint64(j))%20001)-10000) / 10000
			ex[j] = personalize.Contribution{Feature: features[(first+j)%len(features)], Value: v}
		}
		im.Items[i].Explanation = ex
	}
}

func randomOutcome(rng *rand.Rand, t time.Time) *personalize.Outcome {
	u := rng.IntN(Users)
	o := &personalize.Outcome{
		EventID: eventID(rng, t),
		Time:    t,
		Service: "feed-ranker",
		UserID:  UserPseudonym(u),
		Kind:    personalize.OutcomeKind(1 + rng.IntN(int(personalize.OutcomeCustom))),
		Channel: pick(rng, channels),
		Surface: pick(rng, surfaces),
	}
	if rng.IntN(2) == 0 {
		o.SessionID = SessionPseudonym(u, rng.IntN(8))
	}
	if !o.Kind.IsConversion() || rng.IntN(2) == 0 {
		o.RequestID = eventID(rng, t.Add(-time.Minute)).String()
		o.Item = fmt.Sprintf("sku-%05d", rng.IntN(50000))
	}
	switch o.Kind {
	case personalize.OutcomeDwell:
		o.Dwell = time.Duration(rng.Int64N(int64(5 * time.Minute)))
	case personalize.OutcomeScroll:
		o.ScrollDepth = float64(rng.IntN(101)) / 100
	case personalize.OutcomePurchase:
		o.Value = float64(100+rng.IntN(20000)) / 100
		o.Currency = pick(rng, []string{"EUR", "USD", "JPY"})
	case personalize.OutcomeCustom:
		o.Name = pick(rng, customs)
	}
	o.TraceID, o.SpanID = traceOf(o.EventID)
	return o
}

// CloneEvent returns a deep copy of e: new payload structs and new slices,
// so the copy shares no memory with e. The pipeline's internal control
// state is not copied.
func CloneEvent(e personalize.Event) personalize.Event {
	c := personalize.Event{Type: e.Type}
	if e.Impression != nil {
		im := *e.Impression
		im.Experiments = cloneSlice(im.Experiments)
		im.Flags = cloneSlice(im.Flags)
		im.Context = cloneSlice(im.Context)
		im.Items = cloneSlice(im.Items)
		for i := range im.Items {
			im.Items[i].Explanation = cloneSlice(im.Items[i].Explanation)
		}
		im.Stages = cloneSlice(im.Stages)
		c.Impression = &im
	}
	if e.Outcome != nil {
		o := *e.Outcome
		c.Outcome = &o
	}
	if e.Exposure != nil {
		x := *e.Exposure
		c.Exposure = &x
	}
	if e.Link != nil {
		l := *e.Link
		c.Link = &l
	}
	if e.Model != nil {
		m := *e.Model
		c.Model = &m
	}
	if e.Invalid != nil {
		v := *e.Invalid
		c.Invalid = &v
	}
	return c
}

// cloneSlice copies s, keeping nil as nil and empty as empty.
func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// RawIDEvents returns n valid outcome, exposure and link events whose raw
// identifier fields (Outcome.User/Session, Exposure.User, Link.User/Session)
// still hold raw ids of the form "user-000123" next to their pseudonyms,
// and the set of raw ids used. An exporter must write only the pseudonyms:
// the conformance suite scans its output for every returned raw id.
func RawIDEvents(rng *rand.Rand, n int) ([]personalize.Event, []string) {
	seen := map[string]bool{}
	var raw []string
	note := func(s string) string {
		if !seen[s] {
			seen[s] = true
			raw = append(raw, s)
		}
		return s
	}
	out := make([]personalize.Event, n)
	t := BaseTime
	for i := range out {
		t = t.Add(time.Millisecond)
		u, s := rng.IntN(Users), rng.IntN(8)
		switch i % 3 {
		case 0:
			e := randomEventAt(rng, personalize.EventOutcome, t)
			e.Outcome.User = note(RawUserID(u))
			e.Outcome.Session = note(RawSessionID(u, s))
			e.Outcome.UserID, e.Outcome.SessionID = UserPseudonym(u), SessionPseudonym(u, s)
			out[i] = e
		case 1:
			e := randomEventAt(rng, personalize.EventExposure, t)
			e.Exposure.User = note(RawUserID(u))
			e.Exposure.UserID = UserPseudonym(u)
			out[i] = e
		default:
			e := randomEventAt(rng, personalize.EventLink, t)
			e.Link.User, e.Link.Session = note(RawUserID(u)), note(RawSessionID(u, s))
			e.Link.UserID, e.Link.SessionID = UserPseudonym(u), SessionPseudonym(u, s)
			out[i] = e
		}
	}
	return out, raw
}

// traceOf gives two events in three a trace context derived from the
// event id (so the random streams of the generators stay as they were).
func traceOf(id personalize.EventID) (schema.TraceID, schema.SpanID) {
	if id[15]%3 == 0 {
		return schema.TraceID{}, schema.SpanID{}
	}
	h := sha256.Sum256(id[:])
	var t schema.TraceID
	var s schema.SpanID
	copy(t[:], h[:16])
	copy(s[:], h[16:24])
	t[0] |= 1 // never all zeros
	s[0] |= 1
	return t, s
}
