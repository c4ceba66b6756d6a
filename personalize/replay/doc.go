// Package replay evaluates a candidate ranking policy on logged traffic
// (off-policy evaluation): it replays logged impressions, with the
// propensities the logging policy recorded, through a [Policy] and
// estimates the reward the candidate would have earned.
//
// # Rounds
//
// Each of the top Config.Slots positions of an impression is one logged
// action ("round"): the item the logger showed there, its
// personalize.Item.Propensity, and its reward, joined from outcome events
// by request id and item within Config.Window (default: 1 for a click, 0
// otherwise; an item's reward is the largest over its outcomes). The
// candidate gives, for every slot, a probability for each logged item and
// one for "an item not in the log" ([Policy.Distribution]); the
// importance weight of a round is w = pi(logged item | slot) / propensity.
// The direct method needs the reward model's prediction for that outside
// item too, since the candidate's mass outside the log is exactly what
// IPS can only reach through the weights.
//
// # Estimators
//
// Following the definitions of Open Bandit Pipeline (Saito et al., 2021),
// with n rounds, rewards r, weights w and a reward model q:
//
//	IPS          (1/n) sum w r
//	clipped IPS  (1/n) sum min(w, Clip) r          (Clip default 10)
//	SNIPS        sum w r / sum w
//	DM           (1/n) sum_i sum_a pi(a|x_i) q(x_i, a)
//	DR           DM + (1/n) sum w (r - q(x_i, a_i))
//	SNDR         DM + sum w (r - q(x_i, a_i)) / sum w
//
// Values are expected rewards per round (per slot shown). The default
// reward model, [PositionMean], predicts each slot's mean reward over the
// impressions scored before: it never sees the round it predicts, which
// keeps DR unbiased when the propensities are right, and DM honest about
// what it is (an estimate of the logged average by position). Supply a
// better [RewardModel] (and [Learner]) for a sharper DM and a
// lower-variance DR. SNDR (obp's SelfNormalizedDoublyRobust) trades DR's
// unbiasedness for a bounded correction, as SNIPS does for IPS.
//
// # Plain arrays
//
// [EstimateRounds] computes IPS, SNIPS, DM, DR and SNDR with analytic
// standard errors from parallel arrays (rewards, logging propensities,
// target probabilities, reward-model predictions), the shape of obp's
// estimate_policy_value, for data that did not come through events.
//
// # Intervals and diagnostics
//
// Intervals are percentile intervals (Config.Confidence, default 95%) of
// a Poisson bootstrap over 1024 hash buckets of impressions (Config.
// Bootstrap replicates, default 200): an impression's bucket and each
// replicate's bucket weights are hashes of Config.Seed and the event id,
// so the result is the same whatever the order or batching of the events.
// Resampling impressions rather than rounds respects the correlation of
// the slots of one ranking. [Diagnostics] report the effective sample
// size (sum w)^2/sum w^2, the largest weight, the mean weight (near 1 when
// propensities are right and the candidate places logged items only), and
// the share of logged actions the candidate never takes.
//
// # Errors
//
// An impression whose evaluated items lack a propensity (0, "unknown") or
// carry one outside (0,1] cannot support an estimate: Add returns an
// *[UnsupportedError] naming the event id, request id and field
// ("items[3].propensity"), unless Config.SkipUnsupported counts and skips
// it. Policy errors and invalid probabilities are reported the same way.
//
// # Online and offline
//
// An [Evaluator] is a personalize.Exporter: plug it into the pipeline to
// backtest continuously. Offline, feed it the events of the event files in
// order with Add and call Flush at the end. Results can be read at any
// moment, for all traffic and per segment (Config.Keyer).
//
// # Concurrency
//
// Evaluator is safe for concurrent use; its methods are serialized by one
// mutex, and Policy and RewardModel are called under it (they need not be
// safe for concurrent use).
package replay
