import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/temporal.js';
import { heavySteps, quickSteps, writeSteps } from './options.js';
import { runTenantFlow, type TenantReport, type TenantRunInput } from './tenant-flow.js';

const quick = proxyActivities<Activities>(quickSteps);
const write = proxyActivities<Activities>(writeSteps);

type Proxies = ReturnType<typeof proxyActivities<Activities>>;

/** The list steps and the writes, with the profile each needs (shared with startTestWorkflow). */
export function listAndWriteSteps(heavy: Proxies) {
  return {
    embed: heavy.embed,
    neighbours: heavy.neighbours,
    lexical: heavy.lexical,
    fielded: heavy.fielded,
    hybrid: quick.hybrid,
    coengagement: heavy.coengagement,
    storeLists: write.storeLists,
    activate: quick.activate,
  };
}

/** One tenant: extract -> embed -> neighbours -> store -> activate. Only artifact URIs travel. */
export async function tenantWorkflow(input: TenantRunInput): Promise<TenantReport> {
  const heavy = proxyActivities<Activities>({
    ...heavySteps,
    ...(input.heartbeatTimeout ? { heartbeatTimeout: input.heartbeatTimeout } : {}),
  });
  return runTenantFlow(
    {
      extract: quick.extract,
      popular: quick.popular,
      storePopular: quick.storePopular,
      ...listAndWriteSteps(heavy),
    },
    input,
  );
}
