/**
 * The warehouse contract (DESIGN.md): posts and interactions per tenant. Adapters return rows
 * as stored; the extract step validates them so that bad rows are counted and skipped, never fatal.
 */
export interface TenantSummary {
  tenantId: string;
  posts: number;
}

export interface Warehouse {
  /** Every tenant that has at least one post. */
  listTenants(): Promise<TenantSummary[]>;
  /** Posts of a tenant updated at or after `since` (ISO 8601), or all posts without it. */
  readPosts(tenantId: string, since?: string): Promise<Record<string, unknown>[]>;
  /** Interactions of a tenant at or after `since`, or all of them without it. */
  readInteractions(tenantId: string, since?: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export const POST_COLUMNS = [
  'tenantId',
  'postId',
  'title',
  'body',
  'createdAt',
  'updatedAt',
  'deleted',
  'lang',
] as const;
export const INTERACTION_COLUMNS = ['tenantId', 'userId', 'postId', 'type', 'ts'] as const;
