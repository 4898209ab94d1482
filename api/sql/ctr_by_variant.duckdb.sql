-- Click-through rate per experiment variant (DuckDB, over the API's local JSONL logs).
-- A request counts as clicked when an outcome of type 'click' names it and one of its items.
-- Outcomes are de-duplicated by eventId. Parameters: $exposures, $outcomes (file globs).
WITH exposures AS (
  SELECT requestId, tenantId, experiment, variant, unnest(items).postId AS postId
  FROM read_json($exposures, format = 'newline_delimited')
  WHERE experiment IS NOT NULL
),
requests AS (
  SELECT DISTINCT requestId, tenantId, experiment, variant FROM exposures
),
clicks AS (
  SELECT DISTINCT o.requestId
  FROM (SELECT DISTINCT eventId, requestId, postId, type FROM read_json($outcomes, format = 'newline_delimited')) o
  JOIN exposures e ON e.requestId = o.requestId AND e.postId = o.postId
  WHERE o.type = 'click'
)
SELECT r.experiment, r.variant,
       count(*) AS requests,
       count(c.requestId) AS clicked_requests,
       round(count(c.requestId) / count(*), 4) AS ctr
FROM requests r LEFT JOIN clicks c USING (requestId)
GROUP BY r.experiment, r.variant
ORDER BY r.experiment, r.variant;
