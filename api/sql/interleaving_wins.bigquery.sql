-- Team-draft interleaving outcome per experiment (BigQuery), over the typed log tables
-- (infra/sql/load-logs.sql); default dataset as in ctr_by_variant. Parameters: @start, @end (TIMESTAMP).
WITH shown AS (
  SELECT e.requestId, e.experiment, item.postId, item.team
  FROM exposure_log AS e, UNNEST(e.items) AS item
  WHERE e.variant = 'interleaved' AND e.ts BETWEEN @start AND @end
),
outcomes AS (
  SELECT DISTINCT eventId, requestId, postId, type
  FROM outcome_log WHERE ts BETWEEN @start AND TIMESTAMP_ADD(@end, INTERVAL 1 DAY)
),
credited AS (
  SELECT s.requestId, s.experiment, s.team, COUNT(*) AS clicks
  FROM outcomes o JOIN shown s ON s.requestId = o.requestId AND s.postId = o.postId
  WHERE o.type = 'click'
  GROUP BY s.requestId, s.experiment, s.team
),
per_request AS (
  SELECT requestId, experiment, ARRAY_AGG(team ORDER BY clicks DESC LIMIT 1)[OFFSET(0)] AS leader,
         MAX(clicks) AS top, MIN(clicks) AS low, COUNT(*) AS teams
  FROM credited GROUP BY requestId, experiment
)
SELECT experiment, IF(teams = 2 AND top = low, 'tie', leader) AS winner, COUNT(*) AS requests
FROM per_request GROUP BY experiment, winner ORDER BY experiment, winner;
