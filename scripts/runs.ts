/**
 * The version each tenant serves (from the store), then run records (experiment tracking) from
 * the warehouse, newest first, failed runs included.
 *   osusume runs [--tenant ID] [--limit 20] [--json]
 */
import { loadConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { openStore, type ActiveVersion } from '../core/store/index.js';
import { openWarehouse, warehouseName } from '../core/warehouse/index.js';
import type { RunRecord } from '../core/warehouse/types.js';
import { requireLocalState } from './files.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

interface TenantActive {
  tenantId: string;
  active: ActiveVersion | null;
}

function formatActive(actives: TenantActive[]): string {
  return table(
    ['tenant', 'active version', 'activated', 'algorithms', 'kept for rollback'],
    actives.map(({ tenantId, active }) => [
      tenantId,
      active?.version ?? '(none)',
      active?.activatedAt.slice(0, 19) ?? '-',
      active?.algorithms.join(',') ?? '-',
      active?.previous.join(', ') || '-',
    ]),
  );
}

function formatRuns(records: RunRecord[]): string {
  const header = [
    'run',
    'tenant',
    'recorded',
    'code',
    'model',
    'posts',
    'lists',
    'embedded',
    'train s',
    'total s',
    'status',
  ];
  const rows = records.map((r) => [
    r.runId,
    r.tenantId,
    r.recordedAt.slice(0, 19),
    r.codeVersion,
    r.modelId ?? '-',
    String(r.inputs.posts ?? '-'),
    String(r.metrics.lists ?? '-'),
    String(r.metrics.embedded ?? '-'),
    String(r.metrics.modelTrainSeconds ?? '-'),
    Object.values(r.seconds)
      .reduce((a, b) => a + b, 0)
      .toFixed(1),
    r.failure ? `FAILED: ${r.failure.error}` : 'ok',
  ]);
  return table(header, rows);
}

export interface RunsCommandOptions {
  tenant?: string;
  limit: number;
  json?: boolean;
}

/**
 * Text: the active versions, a blank line, the runs. JSON lines, each with a `kind`: one
 * `{"kind":"active","tenantId","active"}` line per tenant, then one `{"kind":"run",...}` line per
 * run record (`failure` set on failed runs).
 */
export async function runsCommand(options: RunsCommandOptions): Promise<void> {
  const config = loadConfig();
  requireLocalState(config);
  const warehouse = await openWarehouse(config.warehouse);
  const store = openStore(config.store);
  try {
    const tenants = options.tenant ? [options.tenant] : (await store.listTenants()).sort();
    const actives: TenantActive[] = [];
    for (const tenantId of tenants)
      actives.push({ tenantId, active: await store.getActive(tenantId) });
    const records = await warehouse.listRunRecords({
      tenantId: options.tenant,
      limit: options.limit,
    });
    // A mistyped tenant would read as an empty table: say what is known of it, as batch does.
    if (options.tenant && records.length === 0 && !actives[0]!.active)
      throw new ConfigError(
        `Tenant "${options.tenant}" has no recorded runs and no active version: check the spelling against the tenants of ${warehouseName(config.warehouse)} (osusume batch --list); a tenant listed there has not run yet (osusume batch --tenant ${options.tenant} runs it).`,
      );
    console.log(
      options.json
        ? [
            ...actives.map((a) => ({ kind: 'active', ...a })),
            ...records.map((r) => ({ kind: 'run', ...r })),
          ]
            .map((r) => JSON.stringify(r))
            .join('\n')
        : `${formatActive(actives)}\n\n${formatRuns(records)}`,
    );
  } finally {
    await store.close();
    await warehouse.close();
  }
}
