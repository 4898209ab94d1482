import { errorMessage } from '../core/errors.js';
import {
  experimentsReadiness,
  readinessWarnings,
  type ExperimentsFile,
} from '../core/experiments.js';
import { log } from '../core/log.js';
import type { RecommendationStore } from '../core/store/types.js';

/** Distinct (experiment, tenant) warnings kept between two loads of the experiments file. */
const MAX_WARNED = 10_000;

/**
 * The API's warnings about experiments a tenant cannot serve yet: one line per experiment when
 * the experiments file is (re)loaded, and one the first time a request meets such a tenant
 * (its version may have changed since).
 */
export class ReadinessWarnings {
  private readonly warned = new Set<string>();

  constructor(private readonly store: Pick<RecommendationStore, 'getActive' | 'listTenants'>) {}

  check(file: ExperimentsFile): void {
    this.warned.clear();
    experimentsReadiness(file, this.store)
      .then((readiness) => {
        for (const line of readinessWarnings(readiness)) log.warn(line);
      })
      .catch((error) =>
        log.warn('could not check experiment readiness', { error: errorMessage(error) }),
      );
  }

  notReady(experiment: string, tenantId: string): void {
    const key = `${experiment}\u0000${tenantId}`;
    if (this.warned.has(key) || this.warned.size >= MAX_WARNED) return;
    this.warned.add(key);
    log.warn('experiment not ready for a tenant: its users get the default and are not enrolled', {
      experiment,
      tenantId,
    });
  }
}
