WITH events AS (
  SELECT type, user_id, experiment, variant, experiments, kind, name, value, dwell_ns, scroll_depth,
    toUnixTimestamp64Micro(time) * 1000 + time_nanos AS ts
  FROM events
),
impressions AS (
  SELECT user_id, ts, experiments FROM events WHERE type = 'impression' AND user_id <> ''
),
exposures AS (
  SELECT user_id AS unit, experiment, variant, ts FROM events
  WHERE type = 'exposure' AND user_id <> '' AND experiment <> '' AND variant <> '' AND experiment IN ('ranker-v42')
  UNION ALL
  SELECT user_id AS unit, tupleElement(a, 'experiment') AS experiment, tupleElement(a, 'variant') AS variant, ts
  FROM (SELECT user_id, ts, a FROM impressions ARRAY JOIN experiments AS a) AS x
  WHERE tupleElement(a, 'experiment') <> '' AND tupleElement(a, 'variant') <> '' AND tupleElement(a, 'experiment') IN ('ranker-v42')
),
units AS (
  SELECT experiment, unit, min(ts) AS first_ts, min(variant) AS variant, count(DISTINCT variant) > 1 AS conflict
  FROM exposures GROUP BY experiment, unit
),
outcomes AS (
  SELECT user_id AS unit, ts,
    CASE WHEN kind = 'click' THEN 1 ELSE 0 END AS n0,
    CASE WHEN kind = 'click' THEN coalesce(value, 0) ELSE 0 END AS v0,
    CASE WHEN kind = 'purchase' THEN 1 ELSE 0 END AS n1,
    CASE WHEN kind = 'purchase' THEN coalesce(value, 0) ELSE 0 END AS v1,
    CASE WHEN kind = 'dwell' THEN 1 ELSE 0 END AS n2,
    CASE WHEN kind = 'dwell' THEN toFloat64(intDiv(coalesce(dwell_ns, 0), 1000000000)) + toFloat64((coalesce(dwell_ns, 0) % 1000000000)) / 1e9 ELSE 0 END AS v2,
    CASE WHEN kind = 'custom' AND name = 'it''s\\liked' THEN 1 ELSE 0 END AS n3,
    CASE WHEN kind = 'custom' AND name = 'it''s\\liked' THEN coalesce(value, 0) ELSE 0 END AS v3
  FROM events WHERE type = 'outcome' AND user_id <> '' AND kind IN ('click', 'custom', 'dwell', 'purchase')
),
unit_values AS (
  SELECT u.experiment AS experiment, u.variant AS variant, u.conflict AS conflict,
    sum(CASE WHEN o.ts < u.first_ts THEN o.n0 ELSE 0 END) AS pre_n0,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.n0 ELSE 0 END) AS post_n0,
    sum(CASE WHEN o.ts < u.first_ts THEN o.v0 ELSE 0 END) AS pre_v0,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.v0 ELSE 0 END) AS post_v0,
    sum(CASE WHEN o.ts < u.first_ts THEN o.n1 ELSE 0 END) AS pre_n1,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.n1 ELSE 0 END) AS post_n1,
    sum(CASE WHEN o.ts < u.first_ts THEN o.v1 ELSE 0 END) AS pre_v1,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.v1 ELSE 0 END) AS post_v1,
    sum(CASE WHEN o.ts < u.first_ts THEN o.n2 ELSE 0 END) AS pre_n2,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.n2 ELSE 0 END) AS post_n2,
    sum(CASE WHEN o.ts < u.first_ts THEN o.v2 ELSE 0 END) AS pre_v2,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.v2 ELSE 0 END) AS post_v2,
    sum(CASE WHEN o.ts < u.first_ts THEN o.n3 ELSE 0 END) AS pre_n3,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.n3 ELSE 0 END) AS post_n3,
    sum(CASE WHEN o.ts < u.first_ts THEN o.v3 ELSE 0 END) AS pre_v3,
    sum(CASE WHEN o.ts >= u.first_ts THEN o.v3 ELSE 0 END) AS post_v3
  FROM units AS u LEFT JOIN outcomes AS o ON o.unit = u.unit
  GROUP BY u.experiment, u.unit, u.variant, u.conflict
),
metric_values AS (
  SELECT experiment, variant,
    CASE WHEN post_n0 > 0 THEN 1.0 ELSE 0.0 END AS y0,
    CASE WHEN pre_n0 > 0 THEN 1.0 ELSE 0.0 END AS x0,
    toFloat64(post_n0) AS y1,
    toFloat64(pre_n0) AS x1,
    CASE WHEN post_n1 > 0 THEN 1.0 ELSE 0.0 END AS y2,
    CASE WHEN pre_n1 > 0 THEN 1.0 ELSE 0.0 END AS x2,
    toFloat64(post_v1) AS y3,
    toFloat64(pre_v1) AS x3,
    toFloat64(post_v2) AS y4,
    toFloat64(pre_v2) AS x4,
    toFloat64(post_n3) AS y5,
    toFloat64(pre_n3) AS x5
  FROM unit_values WHERE NOT conflict
),
per_arm AS (
  SELECT experiment, variant, count(*) AS units,
    sumKahan(y0) AS sy0, sumKahan(y0 * y0) AS syy0, sumKahan(x0) AS sx0, sumKahan(x0 * x0) AS sxx0, sumKahan(x0 * y0) AS sxy0,
    sumKahan(y1) AS sy1, sumKahan(y1 * y1) AS syy1, sumKahan(x1) AS sx1, sumKahan(x1 * x1) AS sxx1, sumKahan(x1 * y1) AS sxy1,
    sumKahan(y2) AS sy2, sumKahan(y2 * y2) AS syy2, sumKahan(x2) AS sx2, sumKahan(x2 * x2) AS sxx2, sumKahan(x2 * y2) AS sxy2,
    sumKahan(y3) AS sy3, sumKahan(y3 * y3) AS syy3, sumKahan(x3) AS sx3, sumKahan(x3 * x3) AS sxx3, sumKahan(x3 * y3) AS sxy3,
    sumKahan(y4) AS sy4, sumKahan(y4 * y4) AS syy4, sumKahan(x4) AS sx4, sumKahan(x4 * x4) AS sxx4, sumKahan(x4 * y4) AS sxy4,
    sumKahan(y5) AS sy5, sumKahan(y5 * y5) AS syy5, sumKahan(x5) AS sx5, sumKahan(x5 * x5) AS sxx5, sumKahan(x5 * y5) AS sxy5
  FROM metric_values GROUP BY experiment, variant
),
arms AS (
  SELECT DISTINCT experiment, variant FROM exposures
),
per_experiment AS (
  SELECT experiment, sum(CASE WHEN conflict THEN 1 ELSE 0 END) AS conflicts,
    min(first_ts) AS first_ts, max(first_ts) AS last_ts
  FROM units GROUP BY experiment
)
SELECT r.experiment AS experiment, r.variant AS variant, toInt64(coalesce(p.units, 0)) AS units, toInt64(e.conflicts) AS conflicts,
  toInt64(e.first_ts) AS first_exposure_ns, toInt64(e.last_ts) AS last_exposure_ns,
  toFloat64(coalesce(p.sy0, 0)) AS m0_sum_y,
  toFloat64(coalesce(p.syy0, 0)) AS m0_sum_yy,
  toFloat64(coalesce(p.sx0, 0)) AS m0_sum_x,
  toFloat64(coalesce(p.sxx0, 0)) AS m0_sum_xx,
  toFloat64(coalesce(p.sxy0, 0)) AS m0_sum_xy,
  toFloat64(coalesce(p.sy1, 0)) AS m1_sum_y,
  toFloat64(coalesce(p.syy1, 0)) AS m1_sum_yy,
  toFloat64(coalesce(p.sx1, 0)) AS m1_sum_x,
  toFloat64(coalesce(p.sxx1, 0)) AS m1_sum_xx,
  toFloat64(coalesce(p.sxy1, 0)) AS m1_sum_xy,
  toFloat64(coalesce(p.sy2, 0)) AS m2_sum_y,
  toFloat64(coalesce(p.syy2, 0)) AS m2_sum_yy,
  toFloat64(coalesce(p.sx2, 0)) AS m2_sum_x,
  toFloat64(coalesce(p.sxx2, 0)) AS m2_sum_xx,
  toFloat64(coalesce(p.sxy2, 0)) AS m2_sum_xy,
  toFloat64(coalesce(p.sy3, 0)) AS m3_sum_y,
  toFloat64(coalesce(p.syy3, 0)) AS m3_sum_yy,
  toFloat64(coalesce(p.sx3, 0)) AS m3_sum_x,
  toFloat64(coalesce(p.sxx3, 0)) AS m3_sum_xx,
  toFloat64(coalesce(p.sxy3, 0)) AS m3_sum_xy,
  toFloat64(coalesce(p.sy4, 0)) AS m4_sum_y,
  toFloat64(coalesce(p.syy4, 0)) AS m4_sum_yy,
  toFloat64(coalesce(p.sx4, 0)) AS m4_sum_x,
  toFloat64(coalesce(p.sxx4, 0)) AS m4_sum_xx,
  toFloat64(coalesce(p.sxy4, 0)) AS m4_sum_xy,
  toFloat64(coalesce(p.sy5, 0)) AS m5_sum_y,
  toFloat64(coalesce(p.syy5, 0)) AS m5_sum_yy,
  toFloat64(coalesce(p.sx5, 0)) AS m5_sum_x,
  toFloat64(coalesce(p.sxx5, 0)) AS m5_sum_xx,
  toFloat64(coalesce(p.sxy5, 0)) AS m5_sum_xy
FROM arms AS r
JOIN per_experiment AS e ON e.experiment = r.experiment
LEFT JOIN per_arm AS p ON p.experiment = r.experiment AND p.variant = r.variant
ORDER BY r.experiment, r.variant
