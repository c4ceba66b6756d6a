// Package attribution links conversions to the personalized impressions
// and clicks that preceded them, splits the credit with rule-based and
// data-driven models, and measures conversion lift per experiment arm.
//
// # Input
//
// An [Engine] reads the events the core writes: fed one by one with
// [Engine.Add] (offline, e.g. over JSON lines decoded with
// personalize.UnmarshalEvent), or as a personalize.Exporter in
// personalize.Config.Exporters (online, in process). Identifiers are the
// exported pseudonyms: the UserID/SessionID of impressions and outcomes,
// Exposure.UserID and Link.UserID/SessionID.
//
// # Identity
//
// A person is a user pseudonym. A session pseudonym belongs to the user it
// was linked to, by a Link event or by any event carrying both; until then
// the session is an anonymous person of its own, and its touchpoints move
// to the user when the link arrives (within the lateness bound). Sessions
// on several devices linked to one user give that user a cross-device
// journey. The first user a session is linked to wins (later conflicting
// links are counted in Stats.LinkConflicts); users are never merged with
// each other; links are forgotten after window + lateness without use. A
// pseudonym produced under a rotated key is a different identifier.
//
// # Journeys and windows
//
// Touchpoints are impressions (views) and clicks, dwells and scrolls
// (engagements). A conversion is an outcome named in Config.Conversions.
// A touchpoint is eligible for a conversion when it happened at or before
// it, within Config.ViewWindow for impressions and Config.ClickWindow for
// engagements; each conversion looks back independently, as ad platforms
// do. Conversions without an eligible touchpoint are counted as
// unattributed in every result. Touchpoints after a person's last
// conversion form a non-converting journey when the person is evicted.
//
// # Lateness, duplicates, memory
//
// Events may arrive out of order by up to Config.Lateness of event time;
// older ones are dropped and counted. Conversions wait for that bound
// before they are attributed. Events with an id already seen inside the
// bound are counted once. A person's state is evicted once the watermark
// (latest event time − Lateness) has passed its last activity by the
// longer window, through a time-ordered heap; hard caps on persons,
// touchpoints per person and distinct keys per dimension bound memory
// whatever the stream (overflow is counted in [Stats]).
//
// # Models
//
// Rule-based ([Rule]): [LastTouch], [FirstTouch], [Linear], [TimeDecay]
// (half-life, default 7 days) and [PositionBased] (40/20/40 by default).
// They split each conversion over its touchpoints; the results add up per
// channel, surface, item and experiment arm.
//
// Data-driven: [Markov], the first-order Markov chain removal effect
// solved exactly as an absorbing chain, and [Shapley], exact Shapley
// values over channel coalitions (up to [MaxShapleyChannels] channels).
// They credit channels globally (share of all conversions and value);
// that credit is spread over surfaces, items and arms in proportion to the
// channel's touchpoints in converting journeys. [MarkovSolution.Weights]
// explains a single journey.
//
// Every [Result] satisfies: the sums of Channels, Surfaces, Items and Arms
// each equal Attributed, and Attributed plus Unattributed equals the
// conversions (and value) of the stream for the rule-based models, and of
// the conversions with touchpoints for the data-driven ones.
//
// [Bootstrap] adds percentile intervals to each channel's credit with the
// seeded Poisson bootstrap over journeys.
//
// # Lift
//
// The lift report ([Lift]) gives per experiment arm and cohort period the
// funnel (users with an impression, a click, a conversion), the
// conversion rate and the value per user, and compares each arm with the
// control: difference and ratio with confidence intervals.
//
// # Concurrency
//
// [Engine] methods are safe for concurrent use. [Markov] and [Shapley]
// values are not. Rules are stateless values.
package attribution
