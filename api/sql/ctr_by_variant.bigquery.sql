-- Click-through rate per experiment variant (BigQuery, over the log tables the logging sink fills).
-- @dataset tables: exposure_log, outcome_log (jsonPayload columns). Parameters: @start, @end (TIMESTAMP).
WITH exposures AS (
  SELECT jsonPayload.requestId AS requestId, jsonPayload.experiment AS experiment,
         jsonPayload.variant AS variant, item.postId AS postId
  FROM `exposure_log`, UNNEST(jsonPayload.items) AS item
  WHERE jsonPayload.experiment IS NOT NULL AND timestamp BETWEEN @start AND @end
),
requests AS (SELECT DISTINCT requestId, experiment, variant FROM exposures),
outcomes AS (
  SELECT DISTINCT jsonPayload.eventId AS eventId, jsonPayload.requestId AS requestId,
         jsonPayload.postId AS postId, jsonPayload.type AS type
  FROM `outcome_log` WHERE timestamp BETWEEN @start AND TIMESTAMP_ADD(@end, INTERVAL 1 DAY)
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
