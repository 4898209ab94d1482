/** The workflow bundle's entry point: every workflow a worker can run. */
export { batchWorkflow } from './batch.js';
export { tenantWorkflow } from './tenant.js';
export { purgeTenantWorkflow } from './purge.js';
export { startTestWorkflow } from './start-test.js';
