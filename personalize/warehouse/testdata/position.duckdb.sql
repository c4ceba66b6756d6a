WITH events AS (
  SELECT type, request_id, item, kind, items,
    epoch_us(time) * 1000 + time_nanos AS ts
  FROM events
),
impressions AS (
  SELECT request_id, ts, items FROM events WHERE type = 'impression'
),
all_slots AS (
  SELECT request_id, ts, it.id AS item, it.position AS position, idx
  FROM (SELECT request_id, ts, unnest(items) AS it, generate_subscripts(items, 1) AS idx FROM impressions) AS x
),
slots AS (
  SELECT request_id, ts, item, position,
    row_number() OVER (PARTITION BY request_id, item ORDER BY position, idx) AS nth
  FROM all_slots
),
clicks AS (
  SELECT request_id, item, ts FROM events
  WHERE type = 'outcome' AND kind = 'click' AND request_id <> '' AND item <> ''
),
hits AS (
  SELECT DISTINCT s.request_id AS request_id, s.item AS item, 1 AS hit
  FROM slots AS s JOIN clicks AS c ON c.request_id = s.request_id AND c.item = s.item
  WHERE s.nth = 1 AND c.ts >= s.ts AND c.ts <= s.ts + 1800000000000
)
SELECT CAST(s.position AS BIGINT) AS position, CAST(count(*) AS BIGINT) AS impressions, CAST(sum(CASE WHEN s.nth = 1 THEN coalesce(h.hit, 0) ELSE 0 END) AS BIGINT) AS clicks
FROM slots AS s LEFT JOIN hits AS h ON h.request_id = s.request_id AND h.item = s.item
WHERE s.position BETWEEN 1 AND 20
GROUP BY s.position
ORDER BY s.position
