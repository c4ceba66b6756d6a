package parquet

import (
	"fmt"
	"strings"

	pq "github.com/parquet-go/parquet-go"
)

// row is the Go shape of one Parquet row. Only its tags matter: the
// schema of every file is pq.SchemaOf(row{}), and rows are built and read
// column by column (encode.go, decode.go), so the context map keeps the
// order of the request's attributes. The field order is the column order.
//
// The mapping from docs/SCHEMA.md: one column per JSON field, with the
// JSON name; a column is NULL exactly when the JSON field is absent
// (absent means zero), so SQL sees NULL for an unknown propensity and not
// 0. Two columns have no JSON field: time_nanos (the sub-microsecond part
// of time, so the time survives exactly while engines read time as a
// microsecond timestamp) and the partition columns dt and hour, which live
// in the directory names only.
type row struct {
	SchemaVersion int32   `parquet:"schema_version"`
	Type          string  `parquet:"type,dict"`
	EventID       string  `parquet:"event_id"`
	Time          int64   `parquet:"time,timestamp(microsecond)"`
	TimeNanos     int32   `parquet:"time_nanos"`
	Service       *string `parquet:"service,optional,dict"`
	ConsentBasis  *string `parquet:"consent_basis,optional,dict"`
	RequestID     *string `parquet:"request_id,optional"`
	TraceID       *string `parquet:"trace_id,optional"`
	SpanID        *string `parquet:"span_id,optional"`
	StartTime     *int64  `parquet:"start_time,optional,timestamp(microsecond)"`
	Surface       *string `parquet:"surface,optional,dict"`
	Channel       *string `parquet:"channel,optional,dict"`
	UserID        *string `parquet:"user_id,optional"`
	UserKeyID     *string `parquet:"user_key_id,optional,dict"`
	SessionID     *string `parquet:"session_id,optional"`
	SessionKeyID  *string `parquet:"session_key_id,optional,dict"`
	Model         *string `parquet:"model,optional,dict"`
	ModelVersion  *string `parquet:"model_version,optional,dict"`
	FeatureSet    *string `parquet:"feature_set,optional,dict"`

	Experiments []assignmentRow   `parquet:"experiments,list,optional"`
	Flags       []flagRow         `parquet:"flags,list,optional"`
	Context     map[string]string `parquet:"context,optional" parquet-key:",dict" parquet-value:",dict"`
	Items       []itemRow         `parquet:"items,list,optional"`
	Stages      []stageRow        `parquet:"stages,list,optional"`

	DurationNS *int64  `parquet:"duration_ns,optional"`
	Status     *string `parquet:"status,optional,dict"`
	ErrorType  *string `parquet:"error_type,optional,dict"`
	Degraded   *bool   `parquet:"degraded,optional"`

	Item        *string  `parquet:"item,optional"`
	Kind        *string  `parquet:"kind,optional,dict"`
	Name        *string  `parquet:"name,optional,dict"`
	Value       *float64 `parquet:"value,optional"`
	Currency    *string  `parquet:"currency,optional,dict"`
	DwellNS     *int64   `parquet:"dwell_ns,optional"`
	ScrollDepth *float64 `parquet:"scroll_depth,optional"`

	Experiment *string `parquet:"experiment,optional,dict"`
	Variant    *string `parquet:"variant,optional,dict"`

	// A model lineage record's own columns (it shares model,
	// model_version and feature_set with impressions). Files written
	// before they existed lack them; readers see NULL.
	FeatureHash      *string `parquet:"feature_hash,optional"`
	TrainingSnapshot *string `parquet:"training_snapshot,optional,dict"`
	Owner            *string `parquet:"owner,optional,dict"`
}

type assignmentRow struct {
	Experiment string `parquet:"experiment,dict"`
	Variant    string `parquet:"variant,dict"`
}

type flagRow struct {
	Key     string `parquet:"key,dict"`
	Variant string `parquet:"variant,dict"`
}

type itemRow struct {
	ID         string   `parquet:"id"`
	Position   int64    `parquet:"position"`
	Score      float64  `parquet:"score"`
	Propensity *float64 `parquet:"propensity,optional"`
	Category   *string  `parquet:"category,optional,dict"`
	Provider   *string  `parquet:"provider,optional,dict"`
	// Explanation is a list nested in the item's (explain.go).
	Explanation []contributionRow `parquet:"explanation,list,optional"`
}

type contributionRow struct {
	Feature string  `parquet:"feature,dict"`
	Value   float64 `parquet:"value"`
}

type stageRow struct {
	Name       string  `parquet:"name,dict"`
	OffsetNS   int64   `parquet:"offset_ns"`
	DurationNS int64   `parquet:"duration_ns"`
	Status     string  `parquet:"status,dict"`
	Detail     *string `parquet:"detail,optional,dict"`
}

// Leaf column indices, in schema order (checked against the schema when
// the package initializes).
const (
	cSchemaVersion = iota
	cType
	cEventID
	cTime
	cTimeNanos
	cService
	cConsentBasis
	cRequestID
	cTraceID
	cSpanID
	cStartTime
	cSurface
	cChannel
	cUserID
	cUserKeyID
	cSessionID
	cSessionKeyID
	cModel
	cModelVersion
	cFeatureSet
	cExpExperiment
	cExpVariant
	cFlagKey
	cFlagVariant
	cCtxKey
	cCtxValue
	cItemID
	cItemPosition
	cItemScore
	cItemPropensity
	cItemCategory
	cItemProvider
	cItemExplFeature
	cItemExplValue
	cStageName
	cStageOffset
	cStageDuration
	cStageStatus
	cStageDetail
	cDurationNS
	cStatus
	cErrorType
	cDegraded
	cItem
	cKind
	cName
	cValue
	cCurrency
	cDwellNS
	cScrollDepth
	cExperiment
	cVariant
	cFeatureHash
	cTrainingSnapshot
	cOwner
	nColumns
)

// columnPaths are the dotted paths of the leaf columns, by index.
var columnPaths = [nColumns]string{
	"schema_version", "type", "event_id", "time", "time_nanos", "service", "consent_basis",
	"request_id", "trace_id", "span_id", "start_time", "surface", "channel", "user_id", "user_key_id",
	"session_id", "session_key_id", "model", "model_version", "feature_set",
	"experiments.list.element.experiment", "experiments.list.element.variant",
	"flags.list.element.key", "flags.list.element.variant",
	"context.key_value.key", "context.key_value.value",
	"items.list.element.id", "items.list.element.position", "items.list.element.score",
	"items.list.element.propensity", "items.list.element.category", "items.list.element.provider",
	"items.list.element.explanation.list.element.feature", "items.list.element.explanation.list.element.value",
	"stages.list.element.name", "stages.list.element.offset_ns", "stages.list.element.duration_ns",
	"stages.list.element.status", "stages.list.element.detail",
	"duration_ns", "status", "error_type", "degraded",
	"item", "kind", "name", "value", "currency", "dwell_ns", "scroll_depth",
	"experiment", "variant",
	"feature_hash", "training_snapshot", "owner",
}

// Definition levels of the repeated columns: a list (or map) that is
// absent (NULL) has level 0, an empty one 1; an element's required
// field has level 2, an optional field present 3 (absent 2).
const (
	defNull    = 0
	defEmpty   = 1
	defElem    = 2
	defElemOpt = 3
)

// schema is the Parquet schema every file is written with.
var schema = pq.SchemaOf(row{})

// leaf describes a column as this package expects it: its physical type
// and maximum levels. A file is read only if each of its columns that
// this package knows matches.
type leaf struct {
	kind     pq.Kind
	rep, def int
}

var leaves [nColumns]leaf

func init() {
	cols := schema.Columns()
	if len(cols) != nColumns {
		panic(fmt.Sprintf("parquet: schema has %d columns, want %d", len(cols), nColumns))
	}
	for i, path := range cols {
		if got := strings.Join(path, "."); got != columnPaths[i] {
			panic(fmt.Sprintf("parquet: column %d is %s, want %s", i, got, columnPaths[i]))
		}
		lc, _ := schema.Lookup(path...)
		leaves[i] = leaf{kind: lc.Node.Type().Kind(), rep: lc.MaxRepetitionLevel, def: lc.MaxDefinitionLevel}
	}
}

// Columns returns the dotted paths of the leaf columns of the Parquet
// schema, in file order ("items.list.element.score" is the score of an
// item: a LIST of structs in the three-level layout of the Parquet
// specification). The partition columns dt and hour are not among them:
// they are in the directory names only.
func Columns() []string {
	return append([]string(nil), columnPaths[:]...)
}

// SchemaString returns the Parquet schema in the textual form of the
// Parquet specification (message ... { ... }), as printed by parquet
// tools.
func SchemaString() string { return schema.String() }
