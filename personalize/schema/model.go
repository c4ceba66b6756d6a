package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// ModelMetadata is the lineage record of one model version (wire type
// "model"): which feature definitions, feature-set version and training
// data produced the rankings whose impressions name the same model and
// model_version. A service emits it once per (model, version, feature
// hash) with personalize's Instrument.RegisterModel; readers join it to
// impressions on (Model, Version) = (Impression.Model,
// Impression.ModelVersion).
//
// It describes a model, not a person: it has no user or session, so
// pseudonymization, consent and opt-out do not apply to it, and erasure of
// a data subject never removes it.
type ModelMetadata struct {
	EventID EventID
	// Time is when the record was emitted (defaults to now).
	Time time.Time
	// Service is the emitting service, set by the pipeline.
	Service string
	// Model and Version name the model as impressions do (wire model,
	// model_version); both are required.
	Model   string
	Version string
	// FeatureSet is the feature-set version, as on impressions (wire
	// feature_set); optional.
	FeatureSet string
	// FeatureHash is a digest of the feature definitions the model reads,
	// in lower-case hexadecimal (32 to 128 digits); required. [FeatureHash]
	// computes one in a canonical way.
	FeatureHash string
	// TrainingSnapshot identifies the training data (a snapshot, table
	// version or dataset hash); optional.
	TrainingSnapshot string
	// Owner is the team or person accountable for the model; optional. It
	// is a role, not a user id: never put a data subject's id here.
	Owner string
}

// MaxModelFieldBytes bounds each string field of a [ModelMetadata] record
// (model, version, feature set, training snapshot, owner): 256 bytes.
const MaxModelFieldBytes = 256

// Feature hash length bounds, in hexadecimal digits: 128 to 512 bits.
const (
	MinFeatureHashDigits = 32
	MaxFeatureHashDigits = 128
)

// Validate checks a model record: model, version and feature hash
// present; the hash lower-case hexadecimal of MinFeatureHashDigits to
// MaxFeatureHashDigits digits (an even count); every string at most
// MaxModelFieldBytes bytes of valid UTF-8.
func (m *ModelMetadata) Validate() error {
	const t = EventModel
	for _, f := range []struct{ name, v string }{
		{"model", m.Model}, {"model_version", m.Version}, {"feature_set", m.FeatureSet},
		{"training_snapshot", m.TrainingSnapshot}, {"owner", m.Owner},
	} {
		if len(f.v) > MaxModelFieldBytes {
			return invalid(t, f.name, "too_long", strconv.Itoa(len(f.v))+" bytes, at most "+strconv.Itoa(MaxModelFieldBytes))
		}
		if !utf8.ValidString(f.v) {
			return invalid(t, f.name, "invalid", "not valid UTF-8")
		}
	}
	switch {
	case m.Model == "":
		return invalid(t, "model", "missing", "")
	case m.Version == "":
		return invalid(t, "model_version", "missing", "")
	case m.FeatureHash == "":
		return invalid(t, "feature_hash", "missing", "")
	}
	if n := len(m.FeatureHash); n < MinFeatureHashDigits || n > MaxFeatureHashDigits || n%2 != 0 {
		return invalid(t, "feature_hash", "out_of_range", "must be an even number of "+strconv.Itoa(MinFeatureHashDigits)+
			" to "+strconv.Itoa(MaxFeatureHashDigits)+" hex digits, got "+strconv.Itoa(n))
	}
	for i := 0; i < len(m.FeatureHash); i++ {
		if c := m.FeatureHash[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return invalid(t, "feature_hash", "invalid", "must be lower-case hexadecimal, byte "+strconv.Itoa(i)+" is "+strconv.QuoteRune(rune(c)))
		}
	}
	return checkTime(t, "time", m.Time)
}

// FeatureHash returns the canonical digest of feature definitions, by
// feature name, for [ModelMetadata].FeatureHash: SHA-256, in lower-case
// hex, of the names in byte order, each name followed by its definition,
// each string written as a netstring (its length in decimal bytes, ':',
// the bytes, ','). The length prefixes make the encoding unambiguous
// (("ab","c") and ("a","bc") differ), and sorting makes it independent of
// map order. A definition is whatever text defines the feature (a SQL
// expression, a transform spec); any change to it changes the hash. The
// hash of no features is that of the empty string. For example,
// {"ctr": "clicks / impressions 7d"} hashes the bytes
// "3:ctr,23:clicks / impressions 7d,".
func FeatureHash(defs map[string]string) string {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	var buf []byte
	for _, n := range names {
		buf = appendNetstring(buf[:0], n)
		buf = appendNetstring(buf, defs[n])
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func appendNetstring(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ',')
}

func appendModel(b []byte, m *ModelMetadata) []byte {
	b = appendHeader(b, EventModel, m.EventID, m.Time, m.Service, "")
	b = appendStrField(b, "model", m.Model)
	b = appendStrField(b, "model_version", m.Version)
	b = appendStrField(b, "feature_set", m.FeatureSet)
	b = appendStrField(b, "feature_hash", m.FeatureHash)
	b = appendStrField(b, "training_snapshot", m.TrainingSnapshot)
	b = appendStrField(b, "owner", m.Owner)
	return append(b, '}')
}
