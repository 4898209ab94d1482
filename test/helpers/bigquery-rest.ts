import { createServer, type IncomingMessage } from 'node:http';

/** A query BigQuery refuses, as its REST API answers one (HTTP 400, `invalidQuery`). */
export interface QueryError {
  invalidQuery: string;
}

/** One request the BigQuery client made to the stand-in. */
export interface BigQueryRequest {
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** A query's answer: its columns (name and BigQuery type) and rows of string cells. */
export interface QueryAnswer {
  fields: { name: string; type: string }[];
  rows: (string | undefined)[][];
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** The named query parameters of a jobs.query body, as strings. */
export function queryParameters(body: Record<string, unknown>): Record<string, string | undefined> {
  const list = (body.queryParameters ?? []) as {
    name: string;
    parameterValue: { value?: string };
  }[];
  return Object.fromEntries(list.map((p) => [p.name, p.parameterValue.value]));
}

/**
 * No BigQuery emulator runs offline: this local server answers the REST calls the client makes
 * (jobs.query, getQueryResults and tabledata.insertAll) and records every request, so that tests
 * check the exact calls. `answer` gives each query's result from its request.
 */
export async function startBigQueryStandIn(
  answer: (request: BigQueryRequest) => QueryAnswer | QueryError,
) {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const requests: BigQueryRequest[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const request = { method: req.method!, url: req.url!, body: await readJsonBody(req) };
    requests.push(request);
    res.setHeader('content-type', 'application/json');
    if (request.url.includes('/insertAll')) {
      res.end(JSON.stringify({ kind: 'bigquery#tableDataInsertAllResponse' }));
      return;
    }
    const answered = answer(request);
    if ('invalidQuery' in answered) {
      const message = answered.invalidQuery;
      res.statusCode = 400;
      res.end(
        JSON.stringify({
          error: {
            code: 400,
            message,
            errors: [{ message, domain: 'global', reason: 'invalidQuery', location: 'q' }],
            status: 'INVALID_ARGUMENT',
          },
        }),
      );
      return;
    }
    const { fields, rows } = answered;
    res.end(
      JSON.stringify({
        kind: 'bigquery#queryResponse',
        jobReference: {
          projectId: 'proj',
          jobId: `job${requests.length}`,
          location: String(request.body.location ?? 'US'),
        },
        jobComplete: true,
        totalRows: String(rows.length),
        schema: { fields },
        rows: rows.map((r) => ({ f: r.map((v) => ({ v })) })),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    // Without closing its kept-alive connections, close waits until the client drops them.
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
