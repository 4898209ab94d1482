/**
 * Progress of commands that run tenants one by one in process (`osusume batch`, `osusume
 * start-test`), on stderr so that stdout keeps only what a command reports.
 */
import cliProgress from 'cli-progress';

export interface Reporter {
  start(tenantId: string): void;
  /** `step` names the step now running (a flow's step name, as the logs give it). */
  update(tenantId: string, step: string, done?: number, total?: number): void;
  /** `outcome` fits a bar ('done', 'FAILED at embed'); `detail` says more, for logs. */
  finish(tenantId: string, outcome: string, detail?: string): void;
  stop(): void;
}

/** Only the count of tenants done, as one bar on a terminal and nothing elsewhere (tools). */
export function tenantsReporter(tenantCount: number): Reporter {
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          format: ' tenants |{bar}| {value}/{total}',
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(tenantCount, 0);
  return {
    start: () => {},
    update: () => {},
    finish: () => bar?.increment(),
    stop: () => bar?.stop(),
  };
}

/** Bars on a terminal; one line per step elsewhere (CI logs). */
export function createReporter(tenantCount: number): Reporter {
  if (!process.stderr.isTTY) {
    let finished = 0;
    const last = new Map<string, string>();
    return {
      start: () => {},
      update: (t, step) => {
        if (last.get(t) === step) return;
        last.set(t, step);
        process.stderr.write(`  ${t}: ${step}\n`);
      },
      finish: (t, outcome, detail) =>
        process.stderr.write(
          `[${++finished}/${tenantCount}] ${t}: ${outcome}${detail ? ` ${detail}` : ''}\n`,
        ),
      stop: () => {},
    };
  }
  const width = 14;
  const multi = new cliProgress.MultiBar(
    {
      // Steps that report no counts (store, activate) show no stale "done/total" of the step before.
      format: (options, params, payload: { name: string; step: string; counted: boolean }) => {
        const size = options.barsize ?? 30;
        const full = Math.round(Math.min(1, params.value / Math.max(1, params.total)) * size);
        const bar =
          (options.barCompleteString ?? '').slice(0, full) +
          (options.barIncompleteString ?? '').slice(0, size - full);
        const counts = payload.counted ? ` ${params.value}/${params.total}` : '';
        return ` ${payload.name} |${bar}| ${payload.step}${counts}`;
      },
      hideCursor: true,
      // The summary that follows says how each tenant ended. Left on screen, the bars' final
      // redraw moves the cursor up and the summary overwrote their last line.
      clearOnComplete: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const label = (name: string) =>
    (name.length > width ? `${name.slice(0, width - 1)}…` : name).padEnd(width);
  const overall = multi.create(tenantCount, 0, {
    name: label('tenants'),
    step: '',
    counted: true,
  });
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    start: (t) => bars.set(t, multi.create(1, 0, { name: label(t), step: '', counted: false })),
    update: (t, step, done, total) => {
      const bar = bars.get(t);
      const counted = done !== undefined && total !== undefined;
      bar?.setTotal(counted ? total : 1);
      bar?.update(counted ? done : 0, { step, counted });
    },
    finish: (t, outcome) => {
      const bar = bars.get(t);
      bar?.setTotal(1);
      bar?.update(1, { step: outcome, counted: false });
      bar?.stop();
      overall.increment();
    },
    stop: () => multi.stop(),
  };
}
