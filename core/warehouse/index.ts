import { existsSync } from 'node:fs';
import type { WarehouseConfig } from '../config.js';
import { BigQueryWarehouse } from './bigquery.js';
import { DuckDbWarehouse } from './duckdb.js';
import type { Warehouse } from './types.js';

export type { Warehouse } from './types.js';

export async function openWarehouse(config: WarehouseConfig): Promise<Warehouse> {
  return config.kind === 'duckdb'
    ? DuckDbWarehouse.open(config.path)
    : new BigQueryWarehouse(config);
}

/** The warehouse the tenants come from, as messages name it. */
export function warehouseName(config: WarehouseConfig): string {
  return config.kind === 'duckdb'
    ? `the DuckDB warehouse ${config.path}`
    : `BigQuery ${config.projectId}.${config.dataset}.${config.postsTable}`;
}

/** A warehouse without tenants is a wrong path or a failed export more often than an empty product. */
export function noTenants(config: WarehouseConfig, noFile = false): string {
  return `No tenants in ${warehouseName(config)}${noFile ? ' (no such file)' : ''}: load posts first (osusume load --posts FILE), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right warehouse.`;
}

/**
 * noTenants for a local warehouse whose file does not exist, else null. DuckDB creates a missing
 * file when it opens it: a command that reads the warehouse checks first, so that a mistyped path
 * is named instead of leaving an empty warehouse behind that reads as "nothing there".
 */
export function missingWarehouse(config: WarehouseConfig): string | null {
  return config.kind === 'duckdb' && !existsSync(config.path) ? noTenants(config, true) : null;
}
