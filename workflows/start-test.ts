import type { CatchUpInput } from '../activities/catch-up.js';
import { runCatchUpFlow, type CatchUpReport } from './catch-up-flow.js';
import { listAndWriteSteps, stepProxies } from './tenant.js';

const proxies = stepProxies();

/**
 * Starts a test the same day for one tenant: the lists the experiments file newly needs, in a
 * new version that carries the active one's lists over, activated (`osusume start-test --temporal`).
 */
export async function startTestWorkflow(input: CatchUpInput): Promise<CatchUpReport> {
  return runCatchUpFlow(
    { prepareCatchUp: proxies.write.prepareCatchUp, ...listAndWriteSteps(proxies) },
    input,
  );
}
