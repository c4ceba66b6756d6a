// Package fairness measures diversity and exposure fairness of rankings
// and offers a fairness-aware re-ranker.
//
// # Diversity
//
// Within a ranking: [IntraListDiversity] with a [Distance] the caller
// supplies, [CategoryCoverage] and [CategoryEntropy] (bits). Across users:
// a [Catalog] of item exposure gives the [Gini] coefficient of exposure and
// catalog coverage in bounded memory (exact counts up to a cap, then a
// HyperLogLog distinct count).
//
// # Exposure fairness
//
// Following Singh and Joachims (2018), "Fairness of Exposure in Rankings"
// (KDD), an item at 1-based position j receives exposure v_j = 1/log2(1+j)
// ([LogDiscount]; any weight function can be supplied). [Exposure]
// accumulates per group (Item.Provider by default, or a group function)
// the placements, exposure, relevance (the model's probability of
// relevance, Item.Score by default) and clicks, amortized over rankings.
// Three ratios compare groups, each min over groups / max over groups so
// that 1 is parity:
//
//   - demographic parity: mean exposure per placement;
//   - disparate treatment: exposure per unit of relevance;
//   - disparate impact: clicks per unit of relevance.
//
// A [Tracker] (a personalize.Exporter) keeps them per segment with outcome
// rates (share of impressions with a click, CTR) and category diversity,
// and calls Config.OnAlert when a ratio leaves its configured [Band] and
// again when it returns (edge-triggered; evaluated after every exported
// batch on Config.AlertDims, all traffic by default). Impressions are
// counted when their outcome window closes (relevance.Joiner), so
// exposure, clicks and rates describe the same impressions.
//
// # Re-ranking
//
// A [Reranker] re-orders a scored list so that every group's share of
// exposure lies within a band around its target (its share of relevance,
// or of items), at the least loss of expected relevance
// sum rel_i * v_position(i). Within a group the optimal order is by
// decreasing relevance, so only the group of each position is searched:
// exhaustively with branch and bound up to RerankConfig.MaxExact
// interleavings, greedily beyond. The [Result] reports the trade-off:
// utility of the input, of the unconstrained best and of the output, the
// relevance lost, and every group's exposure share before and after.
//
// # Memory bounds
//
// Tracker: Config.MaxSegments segments x Config.MaxGroups groups (40 bytes
// each), JoinConfig.MaxPending pending impressions, one Catalog of
// Config.MaxCatalogItems exact items plus a 16 KiB sketch.
//
// # Concurrency
//
// Tracker and Reranker are safe for concurrent use; Exposure and Catalog
// are not; the functions are pure.
package fairness
