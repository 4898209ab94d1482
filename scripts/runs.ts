/**
 * Lists run records (experiment tracking) from the warehouse, newest first.
 *   osusume runs [--tenant ID] [--limit 20] [--json]
 */
import { loadConfig } from '../core/config.js';
import { openWarehouse } from '../core/warehouse/index.js';
import type { RunRecord } from '../core/warehouse/types.js';

export function formatRuns(records: RunRecord[]): string {
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
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  '))
    .join('\n');
}

export interface RunsCommandOptions {
  tenant?: string;
  limit: number;
  json?: boolean;
}

export async function runsCommand(options: RunsCommandOptions): Promise<void> {
  const warehouse = await openWarehouse(loadConfig().warehouse);
  try {
    const records = await warehouse.listRunRecords({
      tenantId: options.tenant,
      limit: options.limit,
    });
    console.log(
      options.json ? records.map((r) => JSON.stringify(r)).join('\n') : formatRuns(records),
    );
  } finally {
    await warehouse.close();
  }
}
