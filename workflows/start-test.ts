import { proxyActivities } from '@temporalio/workflow';
import type { CatchUpInput } from '../activities/catch-up.js';
import type { Activities } from '../activities/temporal.js';
import { runCatchUpFlow, type CatchUpReport } from './catch-up-flow.js';
import { heavySteps, writeSteps } from './options.js';
import { listAndWriteSteps } from './tenant.js';

const write = proxyActivities<Activities>(writeSteps);
const heavy = proxyActivities<Activities>(heavySteps);

/**
 * Starts a test the same day for one tenant: the lists the experiments file newly needs, in a
 * new version that carries the active one's lists over, activated (`osusume start-test --temporal`).
 */
export async function startTestWorkflow(input: CatchUpInput): Promise<CatchUpReport> {
  return runCatchUpFlow(
    { prepareCatchUp: write.prepareCatchUp, ...listAndWriteSteps(heavy) },
    input,
  );
}
