import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/temporal.js';
import { heavySteps, quickSteps, writeSteps } from './options.js';
import { runTenantFlow, type TenantReport, type TenantRunInput } from './tenant-flow.js';

type Proxies = ReturnType<typeof proxyActivities<Activities>>;

export interface StepProxies {
  quick: Proxies;
  heavy: Proxies;
  write: Proxies;
}

/** The steps under each profile's options; `heartbeatTimeout` overrides the profiles' own. */
export function stepProxies(heartbeatTimeout?: string): StepProxies {
  const proxy = (options: ActivityOptions) =>
    proxyActivities<Activities>(heartbeatTimeout ? { ...options, heartbeatTimeout } : options);
  return { quick: proxy(quickSteps), heavy: proxy(heavySteps), write: proxy(writeSteps) };
}

/** The list steps and the writes, with the profile each needs (shared with startTestWorkflow). */
export function listAndWriteSteps({ quick, heavy, write }: StepProxies) {
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
  const proxies = stepProxies(input.heartbeatTimeout);
  return runTenantFlow(
    {
      extract: proxies.quick.extract,
      popular: proxies.quick.popular,
      storePopular: proxies.quick.storePopular,
      ...listAndWriteSteps(proxies),
    },
    input,
  );
}
