-- Team-draft interleaving outcome per experiment (DuckDB): for each request with clicks, the team
-- whose items got more clicks wins; equal clicks is a tie. Parameters: $exposures, $outcomes.
WITH shown AS (
  SELECT requestId, experiment, item.postId AS postId, item.team AS team
  FROM (SELECT requestId, experiment, unnest(items) AS item
        FROM read_json($exposures, format = 'newline_delimited')
        WHERE variant = 'interleaved')
),
credited AS (
  SELECT s.requestId, s.experiment, s.team, count(*) AS clicks
  FROM (SELECT DISTINCT eventId, requestId, postId, type FROM read_json($outcomes, format = 'newline_delimited')) o
  JOIN shown s ON s.requestId = o.requestId AND s.postId = o.postId
  WHERE o.type = 'click'
  GROUP BY ALL
),
per_request AS (
  SELECT requestId, experiment, max_by(team, clicks) AS leader, max(clicks) AS top, min(clicks) AS low, count(*) AS teams
  FROM credited GROUP BY ALL
)
SELECT experiment,
       CASE WHEN teams = 2 AND top = low THEN 'tie' ELSE leader END AS winner,
       count(*) AS requests
FROM per_request
GROUP BY ALL
ORDER BY experiment, winner;
