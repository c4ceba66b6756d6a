// Package explain turns the per-item explanations of impressions
// (schema.Item.Explanation: the model's top signed feature contributions
// to each item's score) into two things:
//
//   - a user-facing "why am I seeing this" text for one item ([Why],
//     [Reasons]), with display labels the caller supplies, the features
//     that pushed the item up first, and numbers only when asked;
//   - a feature reliance audit over time ([Audit]): per time window, each
//     feature's share of the total absolute contribution, the top
//     feature's share and the Herfindahl index of the shares, with flags
//     when reliance concentrates on one feature and when the top feature
//     changes between windows.
//
// # What an explanation is, and is not
//
// Contributions are the model's own attributions (SHAP values, the terms
// of a linear model ...), in the units of the score. They describe how the
// model arrived at a score; they are not causal claims about the user or
// the item, and a high share in the audit says the model leans on a
// feature, not that the feature matters to users. docs/design/governance.md
// ("Explanations") discusses the bounds and the wording.
//
// # Bounds
//
// An Audit keeps at most AuditConfig.MaxWindows windows (older windows are
// dropped and counted) and at most AuditConfig.MaxFeatures features per
// window (the contributions of further features are summed as "other" and
// counted). Sums are exact (internal/exactsum), so [Audit.Merge] of audits
// over any split of the impressions equals one audit over all of them, as
// long as no window overflowed its features.
//
// # Concurrency
//
// Why and Reasons are pure functions. An Audit is safe for concurrent use.
package explain
