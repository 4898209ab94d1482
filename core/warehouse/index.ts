import type { WarehouseConfig } from '../config.js';
import { BigQueryWarehouse } from './bigquery.js';
import { DuckDbWarehouse } from './duckdb.js';
import type { Warehouse } from './types.js';

export type { Warehouse, TenantSummary } from './types.js';

export async function openWarehouse(config: WarehouseConfig): Promise<Warehouse> {
  return config.kind === 'duckdb'
    ? DuckDbWarehouse.open(config.path)
    : new BigQueryWarehouse(config);
}
