-- Team-draft interleaving outcome per experiment (BigQuery). Parameters: @start, @end (TIMESTAMP).
WITH shown AS (
  SELECT jsonPayload.requestId AS requestId, jsonPayload.experiment AS experiment,
         item.postId AS postId, item.team AS team
  FROM `exposure_log`, UNNEST(jsonPayload.items) AS item
  WHERE jsonPayload.variant = 'interleaved' AND timestamp BETWEEN @start AND @end
),
outcomes AS (
  SELECT DISTINCT jsonPayload.eventId AS eventId, jsonPayload.requestId AS requestId,
         jsonPayload.postId AS postId, jsonPayload.type AS type
  FROM `outcome_log` WHERE timestamp BETWEEN @start AND TIMESTAMP_ADD(@end, INTERVAL 1 DAY)
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
