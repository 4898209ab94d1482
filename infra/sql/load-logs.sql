-- Hourly BigQuery scheduled query (infra/components/log-export.ts): the API's log entries, routed
-- by the logging sink into {{raw}}.run_googleapis_com_stdout, become rows of the typed,
-- tenant-clustered log tables in {{dataset}}. Each entry carries its record as JSON text in
-- jsonPayload.record (api/logs.ts). The window overlaps the previous run by an hour to catch late
-- entries; MERGE on the record's id makes that overlap, and any re-run, harmless.
CREATE TEMP TABLE entries AS
SELECT jsonPayload.logName AS log, SAFE.PARSE_JSON(jsonPayload.record) AS r
FROM `{{raw}}.run_googleapis_com_stdout`
WHERE timestamp >= TIMESTAMP_SUB(@run_time, INTERVAL 2 HOUR) AND timestamp < @run_time
  AND jsonPayload.logName IN ('osusume-exposure', 'osusume-assignment', 'osusume-outcome');

MERGE `{{dataset}}.exposure_log` t
USING (
  SELECT JSON_VALUE(r, '$.requestId') AS requestId, JSON_VALUE(r, '$.tenantId') AS tenantId,
         JSON_VALUE(r, '$.surface') AS surface, JSON_VALUE(r, '$.userId') AS userId,
         TIMESTAMP(JSON_VALUE(r, '$.ts')) AS ts, JSON_VALUE(r, '$.experiment') AS experiment,
         JSON_VALUE(r, '$.variant') AS variant, JSON_VALUE(r, '$.split') AS split,
         JSON_VALUE(r, '$.postId') AS postId,
         JSON_VALUE(r, '$.algorithm') AS algorithm, JSON_VALUE(r, '$.version') AS version,
         ARRAY(
           SELECT AS STRUCT JSON_VALUE(i, '$.postId') AS postId,
                  CAST(JSON_VALUE(i, '$.rank') AS INT64) AS rank,
                  CAST(JSON_VALUE(i, '$.score') AS FLOAT64) AS score,
                  JSON_VALUE(i, '$.team') AS team
           FROM UNNEST(JSON_QUERY_ARRAY(r, '$.items')) AS i WITH OFFSET AS o ORDER BY o
         ) AS items,
         CAST(JSON_VALUE(r, '$.latencyMs') AS FLOAT64) AS latencyMs,
         CAST(JSON_VALUE(r, '$.fallback') AS BOOL) AS fallback,
         JSON_VALUE(r, '$.notEnrolled') AS notEnrolled,
         JSON_VALUE(r, '$.notEnrolledReason') AS notEnrolledReason
  FROM entries WHERE log = 'osusume-exposure' AND r IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY requestId) = 1
) s
ON t.requestId = s.requestId AND t.ts >= TIMESTAMP_SUB(@run_time, INTERVAL 1 DAY)
WHEN NOT MATCHED THEN INSERT (requestId, tenantId, surface, userId, ts, experiment, variant,
  split, postId, algorithm, version, items, latencyMs, fallback, notEnrolled, notEnrolledReason)
VALUES (requestId, tenantId, surface, userId, ts, experiment, variant, split, postId, algorithm,
  version, items, latencyMs, fallback, notEnrolled, notEnrolledReason);

MERGE `{{dataset}}.assignment_log` t
USING (
  SELECT JSON_VALUE(r, '$.requestId') AS requestId, JSON_VALUE(r, '$.tenantId') AS tenantId,
         JSON_VALUE(r, '$.surface') AS surface, JSON_VALUE(r, '$.userId') AS userId,
         TIMESTAMP(JSON_VALUE(r, '$.ts')) AS ts, JSON_VALUE(r, '$.experiment') AS experiment,
         JSON_VALUE(r, '$.variant') AS variant
  FROM entries WHERE log = 'osusume-assignment' AND r IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY requestId) = 1
) s
ON t.requestId = s.requestId AND t.ts >= TIMESTAMP_SUB(@run_time, INTERVAL 1 DAY)
WHEN NOT MATCHED THEN INSERT (requestId, tenantId, surface, userId, ts, experiment, variant)
VALUES (requestId, tenantId, surface, userId, ts, experiment, variant);

-- Outcomes are idempotent by eventId (the product backend may retry a batch).
MERGE `{{dataset}}.outcome_log` t
USING (
  SELECT JSON_VALUE(r, '$.eventId') AS eventId, JSON_VALUE(r, '$.requestId') AS requestId,
         JSON_VALUE(r, '$.tenantId') AS tenantId, JSON_VALUE(r, '$.postId') AS postId,
         JSON_VALUE(r, '$.type') AS type, TIMESTAMP(JSON_VALUE(r, '$.ts')) AS ts,
         TIMESTAMP(JSON_VALUE(r, '$.receivedAt')) AS receivedAt
  FROM entries WHERE log = 'osusume-outcome' AND r IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY tenantId, eventId) = 1
) s
ON t.tenantId = s.tenantId AND t.eventId = s.eventId AND t.ts >= TIMESTAMP_SUB(@run_time, INTERVAL 7 DAY)
WHEN NOT MATCHED THEN INSERT (eventId, requestId, tenantId, postId, type, ts, receivedAt)
VALUES (eventId, requestId, tenantId, postId, type, ts, receivedAt);
