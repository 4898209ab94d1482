import { writeFileSync } from 'node:fs';
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import { temporalConnectionOptions } from '../core/temporal.js';
import { scheduleOptions, upsertSchedule } from '../scripts/temporal.js';
import { tempDir } from './helpers/fixtures.js';

const config = parseConfig(
  { temporal: { maxConcurrentTenants: 30, schedule: { cron: '30 2 * * *' } } },
  '/',
);

describe('schedule', () => {
  it('runs the batch workflow nightly, skipping overlaps and catching up within the window', () => {
    expect(scheduleOptions(config)).toEqual({
      scheduleId: 'osusume-nightly',
      spec: { cronExpressions: ['30 2 * * *'], timezone: 'Asia/Tokyo' },
      action: {
        type: 'startWorkflow',
        workflowType: 'batchWorkflow',
        workflowId: 'osusume-batch/scheduled',
        taskQueue: 'osusume',
        args: [{ options: { maxConcurrentTenants: 30, tenantsPerSegment: 1000 } }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '6h' },
    });
  });

  /** No Temporal server here: a stand-in client that records the exact calls made on it. */
  function fakeClient(exists: boolean) {
    const calls: { method: string; args: unknown[] }[] = [];
    const client = {
      schedule: {
        create: async (...args: unknown[]) => {
          calls.push({ method: 'create', args });
          if (exists) throw new ScheduleAlreadyRunning('exists', 'osusume-nightly');
        },
        getHandle: (id: string) => ({
          update: async (fn: (previous: ScheduleDescription) => unknown) => {
            const previous = {
              spec: { cronExpressions: ['0 0 * * *'] },
              action: {},
              policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, pauseOnFailure: true },
              state: { paused: true },
            };
            calls.push({
              method: 'update',
              args: [id, fn(previous as unknown as ScheduleDescription)],
            });
          },
        }),
      },
    };
    return { client: client as unknown as Client, calls };
  }

  it('creates the schedule, or updates it in place (keeping its state) when it exists', async () => {
    const fresh = fakeClient(false);
    expect(await upsertSchedule(fresh.client, config)).toBe('created');
    expect(fresh.calls).toEqual([{ method: 'create', args: [scheduleOptions(config)] }]);

    const existing = fakeClient(true);
    expect(await upsertSchedule(existing.client, config)).toBe('updated');
    expect(existing.calls[1]).toEqual({
      method: 'update',
      args: [
        'osusume-nightly',
        {
          spec: scheduleOptions(config).spec,
          action: scheduleOptions(config).action,
          policies: {
            overlap: ScheduleOverlapPolicy.SKIP,
            catchupWindow: '6h',
            pauseOnFailure: true,
          },
          state: { paused: true },
        },
      ],
    });
  });
});

describe('connection options', () => {
  it('local server by default; mTLS files for Temporal Cloud; API key over TLS', () => {
    expect(temporalConnectionOptions(config)).toEqual({ address: 'localhost:7233' });
    const tmp = tempDir();
    writeFileSync(`${tmp.dir}/c.pem`, 'CERT');
    writeFileSync(`${tmp.dir}/k.pem`, 'KEY');
    const cloud = parseConfig(
      {
        temporal: {
          address: 'ns.tmprl.cloud:7233',
          tlsCertFile: `${tmp.dir}/c.pem`,
          tlsKeyFile: `${tmp.dir}/k.pem`,
        },
      },
      '/',
    );
    expect(temporalConnectionOptions(cloud)).toEqual({
      address: 'ns.tmprl.cloud:7233',
      tls: { clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } },
    });
    expect(() =>
      temporalConnectionOptions(parseConfig({ temporal: { tlsCertFile: 'c.pem' } }, '/')),
    ).toThrow(/both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/);
    expect(() =>
      temporalConnectionOptions(
        parseConfig({ temporal: { tlsCertFile: '/nope', tlsKeyFile: '/nope' } }, '/'),
      ),
    ).toThrow(/Cannot read the Temporal client certificate/);
    expect(temporalConnectionOptions(parseConfig({ temporal: { apiKey: 'secret' } }, '/'))).toEqual(
      { address: 'localhost:7233', tls: true, apiKey: 'secret' },
    );
    tmp.cleanup();
  });
});
