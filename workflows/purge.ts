import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/temporal.js';
import { quickSteps } from './options.js';

const { purgeTenant } = proxyActivities<Activities>(quickSteps);

/** Removes what is served for a tenant that left the warehouse or was disabled. */
export async function purgeTenantWorkflow(input: { tenantId: string }): Promise<void> {
  await purgeTenant(input);
}
