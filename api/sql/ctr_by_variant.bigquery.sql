-- Click-through rate per experiment variant (BigQuery), over the typed log tables that
-- infra/sql/load-logs.sql fills hourly. Run with the osusume dataset as the default dataset
-- (bq query --dataset_id=PROJECT:osusume_ENV ...). Parameters: @start, @end (TIMESTAMP).
-- A request counts as clicked when an outcome of type 'click' names it and one of its items.
WITH exposures AS (
  SELECT e.requestId, e.experiment, e.variant, item.postId
  FROM exposure_log AS e, UNNEST(e.items) AS item
  WHERE e.experiment IS NOT NULL AND e.ts BETWEEN @start AND @end
),
requests AS (SELECT DISTINCT requestId, experiment, variant FROM exposures),
outcomes AS (
  SELECT DISTINCT eventId, requestId, postId, type
  FROM outcome_log WHERE ts BETWEEN @start AND TIMESTAMP_ADD(@end, INTERVAL 1 DAY)
),
clicks AS (
  SELECT DISTINCT o.requestId FROM outcomes o
  JOIN exposures e ON e.requestId = o.requestId AND e.postId = o.postId
  WHERE o.type = 'click'
)
SELECT r.experiment, r.variant, COUNT(*) AS requests, COUNT(c.requestId) AS clicked_requests,
       ROUND(SAFE_DIVIDE(COUNT(c.requestId), COUNT(*)), 4) AS ctr
FROM requests r LEFT JOIN clicks c USING (requestId)
GROUP BY r.experiment, r.variant
ORDER BY r.experiment, r.variant;
