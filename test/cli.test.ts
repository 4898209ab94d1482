import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, runOsusume, type Run } from './helpers/cli.js';
import { start as startBenchServer } from '../bench/api.js';
import { MANUAL_SETS } from '../scripts/datasets/manuals.js';
import { markBuilt } from '../scripts/datasets/readable.js';
import { firestoreTestMode } from './helpers/firestore-emulator.js';
import { devServerOrSkip, rawWorkerConfig } from './helpers/temporal-server.js';
import { parseConfig } from '../core/config.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker } from '../scripts/worker.js';

// The in-process worker of the --wait test logs its state changes; only warnings matter here.
Runtime.install({ logger: new DefaultLogger('WARN') });

const work = mkdtempSync(path.join(tmpdir(), 'osusume-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function osusume(args: string[], env: NodeJS.ProcessEnv = {}, cwd = work): Promise<Run> {
  return runOsusume(args, { cwd, env });
}

/** One post of tenant acme, loaded into the local warehouse of `dir` by `osusume load`. */
async function loadOnePost(dir: string): Promise<void> {
  writeFileSync(
    path.join(dir, 'posts.jsonl'),
    JSON.stringify({
      tenantId: 'acme',
      postId: 'p1',
      title: 'disk quota',
      body: 'How do I set a disk quota?',
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    }) + '\n',
  );
  expect((await osusume(['load', '--posts', 'posts.jsonl'], {}, dir)).code).toBe(0);
}

/** A port nothing listens on: the OS hands one out, and it is closed again at once. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Every command and subcommand, groups included: each --help is checked below. */
const COMMANDS = [
  'demo',
  'load',
  'batch',
  'runs',
  'rollback',
  'api',
  'api-key',
  'api-key create',
  'api-key list',
  'api-key revoke',
  'validate',
  'start-test',
  'results',
  'evaluate',
  'temporal',
  'temporal schedule',
  'temporal run-now',
  'temporal run-tenant',
  'temporal purge-tenant',
  'worker',
  'bench',
  'bench embed',
  'bench ann',
  'bench store',
  'bench api',
  'bench api-profile',
  'bench orchestration',
  'bench lists',
  'bench ranking',
  'bench lsa',
  'fault-inject',
  'dataset',
  'dataset mailing-lists',
  'dataset manuals',
  'dataset movielens',
  'reset',
  'completion',
];

describe('osusume CLI', () => {
  it('lists every command in its help', async () => {
    const { code, stdout } = await osusume(['--help']);
    expect(code).toBe(0);
    for (const name of new Set(COMMANDS.map((c) => c.split(' ')[0]!)))
      expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it('prints its version', async () => {
    const { code, stdout } = await osusume(['--version'], { OSUSUME_CODE_VERSION: undefined });
    expect(code).toBe(0);
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(stdout).toBe(`osusume@${version}\n`);
  });

  it("gives a subcommand's own --version to it, not the program's", async () => {
    const bad = await osusume(['start-test', '--tenant', 'acme', '--version', 'v2026/12/01']);
    expect(bad.stdout).not.toContain('osusume@');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid version "v2026/12/01"');
    const before = await osusume(['--version', 'start-test'], { OSUSUME_CODE_VERSION: undefined });
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/^osusume@/);
  });

  it('checks the help of every command there is', async () => {
    // The completion script has a case for every command path, generated from the command tree.
    const { stdout } = await osusume(['completion']);
    const paths = [...stdout.matchAll(/^ {4}'([^']+)'\) words=/gm)].map((m) => m[1]);
    expect(paths.sort()).toEqual([...COMMANDS].sort());
  });

  it.each(COMMANDS)('%s --help shows usage and an example', async (command) => {
    const { code, stdout } = await osusume([...command.split(' '), '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: osusume ${command}`);
    expect(stdout).toMatch(new RegExp(`Examples:\\n  \\$ .*osusume ${command}`));
  });

  it('says where a dataset already built is and how to build it again', async () => {
    const dir = mkdtempSync(path.join(work, 'datasets-'));
    // The mark each builder writes last says a set is built: nothing is fetched here.
    const built = (set: string) => {
      mkdirSync(path.join(dir, set), { recursive: true });
      markBuilt(path.join(dir, set));
      return path.join(dir, set);
    };
    const kept = (name: string, at: string) =>
      `${name}: already built in ${at}, kept as it is; to build it again, delete that folder and run this again.\n`;
    const lists = built('mailing-lists');
    const mail = await osusume(['dataset', 'mailing-lists', '--out', dir]);
    expect(mail).toMatchObject({ code: 0, stderr: kept('mailing-lists', lists) });
    const movies = built('movielens');
    const movielens = await osusume(['dataset', 'movielens', '--out', dir]);
    expect(movielens).toMatchObject({ code: 0, stderr: kept('movielens', movies) });
    const faq = built('debian-faq');
    const manuals = await osusume(['dataset', 'manuals', 'debian-faq', '--out', dir]);
    expect(manuals).toMatchObject({ code: 0, stderr: kept('debian-faq', faq) });
  });

  it('dataset names an --out path that cannot be a folder, before building anything', async () => {
    const file = path.join(work, 'not-a-folder');
    writeFileSync(file, '');
    for (const [command, out] of [
      ['movielens', path.join(file, 'sets')],
      ['mailing-lists', file],
    ] as const)
      expect(await osusume(['dataset', command, '--out', out])).toEqual({
        code: 1,
        stdout: '',
        stderr: `osusume dataset ${command}: Cannot create the --out folder ${out}: ${file} is a file. Pass --out a folder you can write to.\n`,
      });
    // A refused command line leaves no folder behind.
    const unbuilt = path.join(work, 'unbuilt');
    expect((await osusume(['dataset', 'manuals', 'nope', '--out', unbuilt])).code).toBe(1);
    expect(existsSync(unbuilt)).toBe(false);
  });

  it('dataset manuals --help names every manual set it builds', async () => {
    const { stdout } = await osusume(['dataset', 'manuals', '--help']);
    const named = new Set(stdout.match(/[a-z0-9]+(?:-[a-z0-9]+)+(?=[,\s])/g));
    for (const name of Object.keys(MANUAL_SETS)) expect(named).toContain(name);
  });

  it('rejects a bad option value, naming the option and the accepted values', async () => {
    const { code, stderr } = await osusume(['runs', '--limit', 'abc']);
    expect(code).toBe(1);
    expect(stderr).toBe(
      "osusume runs: option '--limit <n>' argument 'abc' is invalid. expected a whole number from 1 to 1000 (see osusume runs --help)\n",
    );
    const bad = await osusume(['batch', '--tenant', 'a b']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid tenant id "a b"');
    const unknown = await osusume([
      'evaluate',
      '--items',
      'i',
      '--pairs',
      'p',
      '--algorithms',
      'x',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown "x": choose from embedding,');
    const twice = await osusume([
      'evaluate',
      '--items',
      'i',
      '--pairs',
      'p',
      '--algorithms',
      'fielded,fielded',
    ]);
    expect(twice).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "osusume evaluate: option '--algorithms <list>' argument 'fielded,fielded' is invalid. \"fielded\" is listed twice: name each once (see osusume evaluate --help)\n",
    });
    const tokens = await osusume(['bench', 'embed'], { BENCH_MAX_TOKENS: '1000' });
    expect(tokens.code).toBe(1);
    expect(tokens.stderr).toContain('BENCH_MAX_TOKENS must be a whole number from 8 to 512');
  });

  it('refuses a BENCH_ variable it does not accept before the benchmark starts anything', async () => {
    expect(await osusume(['bench', 'ann'], { BENCH_ROWS: '-5' })).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'osusume bench ann: BENCH_ROWS must be a whole number from 1000 to 1000000, not "-5": set it to one, or unset it for the default (100000).\n',
    });
    const target = await osusume(['bench', 'api-profile'], { BENCH_TARGET: 'bogus' });
    expect(target.code).toBe(1);
    expect(target.stderr).toBe(
      'osusume bench api-profile: BENCH_TARGET must be one of related, hono, ceiling, not "bogus": set it to one, or unset it for the default (related).\n',
    );
  });

  it('bench --help lists every BENCH_ variable the benchmarks read', async () => {
    const { stdout } = await osusume(['bench', '--help']);
    const dir = path.join(ROOT, 'bench');
    const named = readdirSync(dir).flatMap(
      (file) => readFileSync(path.join(dir, file), 'utf8').match(/\bBENCH_[A-Z_]+/g) ?? [],
    );
    expect(named.length).toBeGreaterThan(0);
    for (const name of new Set(named)) expect(stdout).toMatch(new RegExp(`^ +${name} `, 'm'));
  });

  it('temporal and worker --help name every TEMPORAL_ variable the configuration reads', async () => {
    const named = readFileSync(path.join(ROOT, 'core/config.ts'), 'utf8').match(
      /\bTEMPORAL_[A-Z_]+/g,
    );
    expect(named?.length).toBeGreaterThan(0);
    for (const command of ['temporal', 'worker']) {
      const { stdout } = await osusume([command, '--help']);
      for (const name of new Set(named)) expect(stdout).toContain(name);
    }
  });

  it("prints commander's own parse errors as one line naming the command and its --help", async () => {
    const line = (command: string, message: string) =>
      `${command}: ${message} (see ${command} --help)\n`;
    const cases: [string[], string][] = [
      [['rnus'], line('osusume', "unknown command 'rnus': did you mean runs?")],
      // Commander printed the whole help for these: it answers --help before the command's name.
      [['rnus', '--help'], line('osusume', "unknown command 'rnus': did you mean runs?")],
      [
        ['temporal', 'rnu-now', '-h'],
        line('osusume temporal', "unknown command 'rnu-now': did you mean run-now?"),
      ],
      [
        ['runs', '--limt', '3'],
        line('osusume runs', "unknown option '--limt': did you mean --limit?"),
      ],
      [
        ['temporal', 'run-tenant'],
        line('osusume temporal run-tenant', "required option '--tenant <id>' not specified"),
      ],
      [
        ['rollback', '--all', '--tenant', 'acme'],
        line('osusume rollback', "option '--all' cannot be used with option '--tenant <id>'"),
      ],
      [
        ['validate', 'a', 'b'],
        line(
          'osusume validate',
          "too many arguments for 'validate'. Expected 1 argument but got 2",
        ),
      ],
    ];
    for (const [args, stderr] of cases)
      expect(await osusume(args)).toMatchObject({ code: 1, stdout: '', stderr });
  });

  it('refuses an option left without its value instead of taking the next option as it', async () => {
    const dir = mkdtempSync(path.join(work, 'option-as-value-'));
    await loadOnePost(dir);
    const line = (command: string, message: string) =>
      `${command}: ${message} (see ${command} --help)\n`;
    const missing = (flags: string, taken: string) =>
      `option '${flags}' argument missing: '${taken}' is an option, not its value`;
    // Commander took '--list' as the file: the batch ran acme and wrote a file named "--list".
    expect(await osusume(['batch', '--skipped', '--list'], {}, dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: line('osusume batch', missing('--skipped <file>', '--list')),
    });
    expect(existsSync(path.join(dir, '--list'))).toBe(false);
    expect(existsSync(path.join(dir, '.osusume/store.lmdb'))).toBe(false);
    const cases: [string[], string][] = [
      [
        ['batch', '--tenant', 'acme', '--tenant', '--list'],
        line('osusume batch', missing('--tenant <id>', '--list')),
      ],
      [['runs', '--tenant', '--json'], line('osusume runs', missing('--tenant <id>', '--json'))],
      [
        ['api-key', '--id', '--all-tenants'],
        line('osusume api-key create', missing('--id <name>', '--all-tenants')),
      ],
      [['rollback', '--tenant', '-h'], line('osusume rollback', missing('--tenant <id>', '-h'))],
    ];
    for (const [args, stderr] of cases)
      expect(await osusume(args, {}, dir)).toEqual({ code: 1, stdout: '', stderr });
    expect(existsSync(path.join(dir, '.osusume/api-keys.json'))).toBe(false);
  });

  it('help <command> shows its help, as --help does; an unknown name fails as a typo does', async () => {
    const line = (command: string, message: string) =>
      `${command}: ${message} (see ${command} --help)\n`;
    for (const [help, same] of [
      [['help'], ['--help']],
      [
        ['help', 'runs'],
        ['runs', '--help'],
      ],
      [
        ['help', 'temporal', 'run-now'],
        ['temporal', 'run-now', '--help'],
      ],
      [
        ['temporal', 'help', 'run-now'],
        ['temporal', 'run-now', '--help'],
      ],
    ]) {
      const [shown, expected] = await Promise.all([osusume(help!), osusume(same!)]);
      expect(shown).toEqual({ ...expected, code: 0 });
    }
    const cases: [string[], string][] = [
      // Commander's help command printed the whole program's help for these, and suggested nothing.
      [['help', 'rnus'], line('osusume', "unknown command 'rnus': did you mean runs?")],
      [
        ['help', 'temporal', 'rnu-now'],
        line('osusume temporal', "unknown command 'rnu-now': did you mean run-now?"),
      ],
      [
        ['help', 'api-key', 'lsit'],
        line(
          'osusume api-key',
          "unknown subcommand 'lsit' (did you mean list?): use create, list or revoke",
        ),
      ],
      [
        ['help', 'runs', 'extra'],
        line('osusume runs', "'extra' is not a command: runs has no subcommands"),
      ],
    ];
    for (const [args, stderr] of cases)
      expect(await osusume(args)).toMatchObject({ code: 1, stdout: '', stderr });
  });

  it('refuses an option without the option it goes with', async () => {
    const wait = await osusume(['start-test', '--wait']);
    expect(wait.code).toBe(1);
    expect(wait.stderr).toBe(
      'osusume start-test: --wait goes with --temporal (in process, start-test always waits): add --temporal, or leave out --wait.\n',
    );
    const within = await osusume(['fault-inject', '--kills', '1', '--aim-within', '30']);
    expect(within.code).toBe(1);
    expect(within.stderr).toBe(
      'osusume fault-inject: --aim-within goes with --aim: name the steps to aim at (--aim activate), or leave out --aim-within.\n',
    );
  });

  it('injects faults from any folder, not only the checkout (the killed batch is started there)', async () => {
    // `work` is outside the checkout: its batch child once failed with ERR_MODULE_NOT_FOUND (tsx).
    const run = await osusume(['fault-inject', '--kills', '1']);
    expect(run.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('torn or unexpected versions: 0');
  }, 120_000);

  it("reads the checkout's demo pages from any folder: evaluate's man-page sets, bench lists", async () => {
    const elsewhere = mkdtempSync(path.join(work, 'elsewhere-'));
    const evaluated = await osusume(
      ['evaluate', '--all-datasets', '--sets', 'man-pages-ja'],
      {},
      elsewhere,
    );
    expect(evaluated.stderr).not.toContain('ENOENT');
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toMatch(/^best worst ratio: /m);
    expect(existsSync(path.join(elsewhere, '.osusume/datasets/man-pages-ja/items.jsonl'))).toBe(
      true,
    );
    const bench = await osusume(['bench', 'lists', '--quick'], {}, elsewhere);
    expect(bench.stderr).not.toContain('does not exist');
    expect(bench.code).toBe(0);
    expect(bench.stdout).toContain('"bench":"lists"');
  }, 120_000);

  it("starts bench api's servers from the checkout, whatever the working folder", async () => {
    const before = process.cwd();
    process.chdir(work);
    try {
      // Started in `work`, the server's `--import tsx` and bench/api-target.ts were not found.
      const { child, url } = await startBenchServer(['ceiling', '0']);
      try {
        expect((await fetch(url)).status).toBe(200);
      } finally {
        child.kill();
      }
    } finally {
      process.chdir(before);
    }
  });

  it('validates temporal subcommands before connecting to anything', async () => {
    // An address where nothing listens: a connection attempt would fail only after seconds.
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:9' };
    const bogus = await osusume(['temporal', 'bogus'], env);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toBe(
      "osusume temporal: unknown command 'bogus' (see osusume temporal --help)\n",
    );
    const bare = await osusume(['temporal'], env);
    expect(bare.stdout + bare.stderr).toContain('run-tenant');
    const noTenant = await osusume(['temporal', 'run-tenant'], env);
    expect(noTenant.code).toBe(1);
    expect(noTenant.stderr).toContain("required option '--tenant <id>' not specified");
    const badRun = await osusume(['temporal', 'run-now', '--run-id', '2026/11/22'], env);
    expect(badRun.code).toBe(1);
    expect(badRun.stderr).toContain('Invalid version "2026/11/22"');
  });

  it('names the Temporal address, where it came from and what to do when nothing answers', async () => {
    const port = await freePort();
    const fromEnv = await osusume(['temporal', 'run-now'], {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain(
      `osusume temporal run-now: Cannot reach Temporal at 127.0.0.1:${port} (from TEMPORAL_ADDRESS; namespace default): connection refused`,
    );
    expect(fromEnv.stderr).toContain('set TEMPORAL_ADDRESS');
    // The dev server's CLI is not on PATH: set-up links it under .osusume/bin/.
    expect(fromEnv.stderr).toContain(
      'Start a server there (`temporal server start-dev`; `npm run setup` puts that CLI in .osusume/bin/)',
    );
    const config = path.join(work, 'temporal-config.yaml');
    writeFileSync(config, `temporal: { address: '127.0.0.1:${port}' }\n`);
    const worker = await osusume(['worker'], {
      TEMPORAL_ADDRESS: undefined,
      OSUSUME_CONFIG: config,
    });
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain(
      `osusume worker: Cannot reach Temporal at 127.0.0.1:${port} (TEMPORAL_ADDRESS is unset`,
    );
    expect(worker.stderr).not.toMatch(/tonic|transport::Error/);
  });

  it('says to check the port and TLS, not to start a server, when something else answers at the address', async () => {
    const server = await devServerOrSkip('osusume temporal against the wrong port or TLS', {
      ui: true,
    });
    if (!server) return;
    try {
      const advice =
        "Check the port (Temporal's gRPC port, 7233 on a dev server, not its Web UI's 8233) and TLS";
      // The dev server's Web UI instead of its gRPC port: a slip the two printed addresses invite.
      const uiAddress = new URL(server.uiUrl!).host;
      const ui = await osusume(['worker'], { TEMPORAL_ADDRESS: uiAddress });
      expect(ui.code).toBe(1);
      expect(ui.stderr).toContain(
        `osusume worker: Cannot connect to Temporal at ${uiAddress} (from TEMPORAL_ADDRESS; namespace default): something accepts connections there, but a Temporal connection without TLS failed: `,
      );
      expect(ui.stderr).toContain(advice);
      expect(ui.stderr).not.toContain('Start a server there');
      expect(ui.stderr).not.toMatch(/tonic|transport::Error/);
      // An API key (Temporal Cloud's) turns TLS on, which the dev server does not speak.
      const tls = await osusume(['temporal', 'run-now'], {
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_API_KEY: 'not-for-a-dev-server',
      });
      expect(tls.code).toBe(1);
      expect(tls.stderr).toContain(
        `osusume temporal run-now: Cannot connect to Temporal at ${server.address} (from TEMPORAL_ADDRESS; namespace default): something accepts connections there, but a Temporal connection over TLS with an API key failed: `,
      );
      expect(tls.stderr).toContain(advice);
    } finally {
      await server.teardown();
    }
  }, 120_000);

  it('says which setting names an unreadable Temporal client certificate', async () => {
    const run = await osusume(['temporal', 'run-now'], {
      TEMPORAL_TLS_CERT: 'client.pem',
      TEMPORAL_TLS_KEY: 'client.key',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^osusume temporal run-now: Cannot read the Temporal client certificate client\.pem: ENOENT[^\n]*\. Set TEMPORAL_TLS_CERT \(or temporal\.tlsCertFile of the configuration\) to the path of its PEM file\.\n$/,
    );
  });

  it('names the workflow already running when a run is started twice, and what to do', async () => {
    const server = await devServerOrSkip('osusume temporal run-now twice');
    if (!server) return;
    try {
      // No worker polls the task queue, so the first start stays running.
      const env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
      const where = `on ${server.address} (namespace ${server.namespace})`;
      const batch = ['temporal', 'run-now', '--run-id', 'twice'];
      expect((await osusume(batch, env)).stdout).toContain(`Started osusume-batch/twice (run `);
      const again = await osusume(batch, env);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(
        `osusume temporal run-now: Workflow osusume-batch/twice is already running ${where}: wait for it to finish (the Temporal UI shows it; osusume runs lists the tenant runs it has recorded), or pass another --run-id for a separate run.\n`,
      );
      const tenant = ['temporal', 'run-tenant', '--tenant', 'acme', '--run-id', 'twice'];
      expect((await osusume(tenant, env)).code).toBe(0);
      const tenantAgain = await osusume(tenant, env);
      expect(tenantAgain.code).toBe(1);
      expect(tenantAgain.stderr).toContain(
        `osusume temporal run-tenant: Workflow osusume-tenant/twice/acme is already running ${where}`,
      );
      const test = ['start-test', '--tenant', 'acme', '--temporal', '--version', 'twice'];
      expect((await osusume(test, env)).code).toBe(0);
      const testAgain = await osusume(test, env);
      expect(testAgain.code).toBe(1);
      expect(testAgain.stderr).toContain(
        `osusume start-test: Workflow osusume-start-test/twice/acme is already running ${where}: wait for it to finish (the Temporal UI shows it; osusume runs lists the tenant runs it has recorded), or pass another --version for a separate run.`,
      );
    } finally {
      await server.teardown();
    }
  }, 120_000);

  it('with --wait, names a failed workflow, its step and its cause, and says when one that returns nothing is done', async () => {
    const server = await devServerOrSkip('osusume temporal run-tenant --wait');
    if (!server) return;
    const dir = mkdtempSync(path.join(work, 'wait-'));
    try {
      await loadOnePost(dir);
      const taskQueue = 'osusume-cli-wait';
      const config = parseConfig(rawWorkerConfig(dir, taskQueue), dir);
      const env = {
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: server.namespace,
        TEMPORAL_TASK_QUEUE: taskQueue,
      };
      const { worker, close } = await createWorker(config, server.env.nativeConnection);
      const [failed, purged] = await worker.runUntil(async () => [
        await osusume(
          ['temporal', 'run-tenant', '--tenant', 'nope', '--run-id', 'w1', '--wait'],
          env,
          dir,
        ),
        await osusume(['temporal', 'purge-tenant', '--tenant', 'acme', '--wait'], env, dir),
      ]);
      await close();
      expect(failed.code).toBe(1);
      // Temporal's own message is only "Workflow execution failed".
      expect(failed.stderr).toBe(
        'osusume temporal run-tenant: Workflow osusume-tenant/w1/nope failed at extract: Tenant "nope" has no posts in the warehouse. Check the tenant id (npm run batch -- --list). The Temporal UI shows its history; fix the cause and start it again.\n',
      );
      expect(purged.code).toBe(0);
      expect(purged.stdout).toMatch(/^osusume-purge\/[\d-]+\/acme completed\.$/m);
      expect(purged.stdout).not.toContain('undefined');
    } finally {
      await server.teardown();
    }
  }, 180_000);

  it('runs a command and reports its failure with the command name', async () => {
    const file = path.join(work, 'experiments.yaml');
    writeFileSync(
      file,
      'experiments:\n  - { id: x, surface: s, variants: [{ name: a, algorithm: nope }] }\n',
    );
    const invalid = await osusume(['validate', file]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(
      /^osusume validate: .*experiments.yaml is invalid:\n.*\.algorithm: /m,
    );
    writeFileSync(file, 'experiments: []\n');
    const valid = await osusume(['validate', file]);
    expect(valid).toMatchObject({ code: 0 });
    expect(valid.stdout).toContain(`${file}: valid.`);
  });

  it('creates an API key whose hash lands in the configured keys file', async () => {
    const { code, stdout } = await osusume(['api-key', '--id', 'backend', '--tenant', 'acme']);
    expect(code).toBe(0);
    const key = stdout.trim().split('\n').pop()!;
    // A running API re-reads the key file: the key is not valid there at once.
    expect(stdout).toBe(
      `API key "backend" for acme (stored hashed in ${path.join(work, '.osusume/api-keys.json')}; a running API accepts it within api.reloadSeconds, 5 s):\n${key}\n`,
    );
    const stored = JSON.parse(readFileSync(path.join(work, '.osusume/api-keys.json'), 'utf8'));
    expect(stored).toEqual([expect.objectContaining({ id: 'backend', tenants: ['acme'] })]);
    expect(JSON.stringify(stored)).not.toContain(key);
    const again = await osusume(['api-key', '--id', 'backend', '--all-tenants']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('osusume api-key create: A key with id "backend" exists');
    await osusume(['api-key', '--id', 'ops', '--all-tenants']);
    const listed = await osusume(['api-key', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([
      { id: 'backend', tenants: ['acme'] },
      { id: 'ops', tenants: ['*'] },
    ]);
    expect(await osusume(['api-key', 'revoke', '--id', 'backend'])).toMatchObject({ code: 0 });
    const gone = await osusume(['api-key', 'revoke', '--id', 'backend']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No key with id "backend"');
    expect(gone.stderr).toContain('keys: ops');
    expect((await osusume(['api-key', 'list'])).stdout).toBe('ops\t*\n');
  });

  it('refuses a key id the key file cannot hold, and says how to mend a key file it cannot read', async () => {
    const dir = mkdtempSync(path.join(work, 'keys-'));
    const file = path.join(dir, 'keys.json');
    const env = { OSUSUME_CONFIG_YAML: `api: { keysFile: ${file} }` };
    const empty = await osusume(['api-key', '--id', '', '--all-tenants'], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('Invalid key id "": name the key after who uses it');
    expect(existsSync(file)).toBe(false);
    expect(await osusume(['api-key', 'list'], env)).toEqual({
      code: 0,
      stdout: `No API keys in ${file}: create one with osusume api-key --id NAME --tenant ID (or --all-tenants).\n`,
      stderr: '',
    });

    writeFileSync(file, JSON.stringify([{ id: '', sha256: '0'.repeat(64), tenants: ['*'] }]));
    const invalid = await osusume(['api-key', 'list'], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(
      `osusume api-key list: ${file} is not a valid API key file: 0.id:`,
    );
    expect(invalid.stderr).toContain('mend that entry by hand');
    writeFileSync(file, '[{');
    const broken = await osusume(['api-key', 'list'], env);
    expect(broken.stderr).toContain(`${file} is not a valid API key file: not JSON`);
    expect(broken.stderr).toContain('move the file away');
  });

  it('names the api-key subcommands for a word that is none of them, before or after options', async () => {
    const file = path.join(mkdtempSync(path.join(work, 'keys-')), 'keys.json');
    const env = { OSUSUME_CONFIG_YAML: `api: { keysFile: ${file} }` };
    const refused = (message: string) => ({
      code: 1,
      stdout: '',
      stderr: `osusume api-key: ${message} (see osusume api-key --help)\n`,
    });
    const lsit = "unknown subcommand 'lsit' (did you mean list?): use create, list or revoke";
    expect(await osusume(['api-key', 'lsit', '--json'], env)).toEqual(refused(lsit));
    // After create's options, not "too many arguments for 'create'".
    expect(await osusume(['api-key', '--id', 'x', 'lsit'], env)).toEqual(refused(lsit));
    expect(await osusume(['api-key', '--id', 'x', '--all-tenants', 'bogus'], env)).toEqual(
      refused("unknown subcommand 'bogus': use create, list or revoke"),
    );
    expect(await osusume(['api-key', '--id', 'x', 'list'], env)).toEqual(
      refused(
        "'list' is a subcommand: name it first (osusume api-key list --help lists its options)",
      ),
    );
    expect(existsSync(file)).toBe(false);
    // Bare, it shows the help (as bare `osusume temporal` does), not a missing --id.
    const bare = await osusume(['api-key'], env);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('Usage: osusume api-key');
    expect(bare.stderr).not.toContain("required option '--id");
    const help = await osusume(['api-key', '--help'], env);
    expect(help.stdout).toContain('$ osusume api-key --id backend --tenant acme');
    expect(help.stdout).toContain('The default: `create` may be left out.');
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a key scoped both to tenants and to every tenant', async () => {
    const file = path.join(mkdtempSync(path.join(work, 'keys-')), 'keys.json');
    const env = { OSUSUME_CONFIG_YAML: `api: { keysFile: ${file} }` };
    const both = await osusume(['api-key', '--id', 'y', '--tenant', 'acme', '--all-tenants'], env);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain(
      "option '--all-tenants' cannot be used with option '--tenant <id>'",
    );
    expect(existsSync(file)).toBe(false);
  });

  it('says which port is taken and what to pass instead when the API cannot listen', async () => {
    const dir = mkdtempSync(path.join(work, 'api-'));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const api = await osusume(['api', '--port', String(port)], {}, dir);
      expect(api.code).toBe(1);
      expect(api.stderr).toContain(
        `osusume api: Port ${port} is in use: stop what listens there, or pass --port N or set PORT to a free port.`,
      );
      expect(api.stderr).not.toMatch(/^\s+at /m);
      const env = { OSUSUME_CONFIG_YAML: `api: { metricsPort: ${port} }` };
      const metrics = await osusume(['api', '--port', '0'], env, dir);
      expect(metrics.code).toBe(1);
      expect(metrics.stderr).toContain(
        `osusume api: Port ${port} (api.metricsPort, for /metrics) is in use: stop what listens there, or set api.metricsPort to a free port.`,
      );
      expect(metrics.stderr).not.toMatch(/^\s+at /m);
    } finally {
      taken.close();
    }
  });

  it('loads an export, listing each skipped row with its line and reason, never coercing ids', async () => {
    const dir = mkdtempSync(path.join(work, 'load-'));
    const posts = path.join(dir, 'posts.jsonl');
    const row = (postId: unknown) =>
      JSON.stringify({ tenantId: 'acme', postId, title: 't', body: 'b', createdAt: '2024-01-01' });
    writeFileSync(posts, [row('p1'), row(42), '{broken', '', row('p2')].join('\n') + '\n');
    const env = { OSUSUME_CONFIG_YAML: `warehouse: { kind: duckdb, path: ${dir}/w.duckdb }` };
    const skipped = path.join(dir, 'skipped.jsonl');
    const load = await osusume(['load', '--posts', posts, '--skipped', skipped], env);
    expect(load.code).toBe(0);
    expect(load.stdout).toContain(`posts: 2 rows loaded from ${posts}, 2 rows skipped`);
    expect(load.stderr).toContain(`skipped ${posts}:2: postId is a number (42), not a string`);
    const report = readFileSync(skipped, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(report.map((r) => [r.line, r.reason.split(' ')[0]])).toEqual([
      [2, 'postId'],
      [3, 'not'],
    ]);
    const list = await osusume(['batch', '--list'], env);
    expect(list.stdout).toBe('acme\t2 posts\n');

    const missing = await osusume(['load', '--posts', posts, '--interactions', 'nope.jsonl'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'osusume load: The interactions file nope.jsonl does not exist: pass the path of a JSONL (.jsonl, .jsonl.gz) or Parquet export.\n',
    );
    expect((await osusume(['batch', '--list'], env)).stdout).toBe('acme\t2 posts\n');

    const one = path.join(dir, 'one.jsonl');
    writeFileSync(one, [row('p3'), row(43)].join('\n') + '\n');
    const single = await osusume(['load', '--posts', one], env);
    expect(single.stdout).toBe(`posts: 1 row loaded from ${one}, 1 row skipped (listed above)\n`);
  });

  it('asks before the demo replaces tenants it did not load', async () => {
    const dir = mkdtempSync(path.join(work, 'demo-'));
    const env = { OSUSUME_CONFIG_YAML: `warehouse: { kind: duckdb, path: ${dir}/w.duckdb }` };
    const posts = path.join(dir, 'posts.jsonl');
    writeFileSync(posts, JSON.stringify({ tenantId: 'acme', postId: 'p1', title: 't', body: 'b' }));
    expect((await osusume(['load', '--posts', posts], env)).code).toBe(0);
    // The demo reads demo/ from the repository root; without a terminal it cannot ask.
    const demo = await osusume(['demo'], env, ROOT);
    expect(demo.code).toBe(1);
    expect(demo.stderr).toContain(
      `osusume demo: The warehouse ${dir}/w.duckdb holds 1 tenant the demo did not load (acme), which the demo replaces. Run the demo with --replace, or keep the warehouse as it is`,
    );
    expect((await osusume(['batch', '--list'], env)).stdout).toBe('acme\t1 post\n');
  });

  it('refuses to run a batch over a warehouse without tenants, naming it', async () => {
    const dir = mkdtempSync(path.join(work, 'empty-'));
    const env = { OSUSUME_CONFIG_YAML: `warehouse: { kind: duckdb, path: ${dir}/w.duckdb }` };
    const { code, stderr } = await osusume(['batch'], env);
    expect(code).toBe(1);
    expect(stderr).toContain(`osusume batch: No tenants in the DuckDB warehouse ${dir}/w.duckdb`);
    expect(stderr).toContain('osusume load --posts FILE');
  });

  it('refuses a model.dir that is not there before the batch runs anything, naming the folder as resolved', async () => {
    const dir = mkdtempSync(path.join(work, 'model-dir-'));
    await loadOnePost(dir);
    // As "Plugging in a real embedding model" says to set it, with a typo.
    writeFileSync(path.join(dir, 'osusume.config.yaml'), 'model: { dir: models/e5-smal }\n');
    const typo = await osusume(['batch'], {}, dir);
    expect(typo).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `osusume batch: model.dir resolves to ${dir}/models/e5-smal, which does not exist. The folder must hold the model files, tokenizer.json and model.onnx of one export (README, "Plugging in a real embedding model"): correct the path (a relative one is resolved from the configuration file's folder), or remove model.dir from the configuration to have every tenant train its own model.\n`,
    });
    expect(existsSync(path.join(dir, '.osusume/store.lmdb'))).toBe(false);
    // A folder with model.onnx but no tokenizer.json: the same, though no list reads embeddings.
    mkdirSync(path.join(dir, 'models/e5-smal'), { recursive: true });
    writeFileSync(path.join(dir, 'models/e5-smal/model.onnx'), 'an export cut short');
    const half = await osusume(['batch'], {}, dir);
    expect(half).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `osusume batch: The model folder ${dir}/models/e5-smal has model.onnx but no tokenizer: ${dir}/models/e5-smal/tokenizer.json is missing. Put the model file and tokenizer.json of one export in it (README, "Plugging in a real embedding model"), or set model.dir to a folder without a model to train one per tenant.\n`,
    });
    expect(existsSync(path.join(dir, '.osusume/store.lmdb'))).toBe(false);
    rmSync(path.join(dir, 'models'), { recursive: true });
    // The demo too, before it loads anything into the warehouse.
    const demoDir = mkdtempSync(path.join(work, 'model-dir-demo-'));
    cpSync(path.join(ROOT, 'demo'), path.join(demoDir, 'demo'), { recursive: true });
    writeFileSync(path.join(demoDir, 'osusume.config.yaml'), 'model: { dir: models/e5-smal }\n');
    const demo = await osusume(['demo'], {}, demoDir);
    expect(demo.code).toBe(1);
    expect(demo.stderr).toContain(`osusume demo: model.dir resolves to ${demoDir}/models/e5-smal`);
    expect(existsSync(path.join(demoDir, '.osusume'))).toBe(false);
    // Unset, the default folder may be absent: the batch runs, and its summary says what embedded.
    rmSync(path.join(dir, 'osusume.config.yaml'));
    const unset = await osusume(['batch', '--run-id', 'r1'], {}, dir);
    expect(unset.code).toBe(0);
    expect(unset.stdout).toContain(
      '\nembedded: no tenant (none ran, or no list it serves reads embeddings)\n',
    );
  });

  it('refuses an experiments file with an error before the demo loads anything', async () => {
    const demoDir = mkdtempSync(path.join(work, 'experiments-demo-'));
    cpSync(path.join(ROOT, 'demo'), path.join(demoDir, 'demo'), { recursive: true });
    writeFileSync(
      path.join(demoDir, 'experiments.yaml'),
      'experiments:\n  - id: e\n    surface: footer\n    variants: [{ name: a, algorithm: lexcal }]\n',
    );
    const demo = await osusume(['demo'], {}, demoDir);
    expect(demo).toMatchObject({ code: 1, stdout: '' });
    expect(demo.stderr).toContain(
      `osusume demo: ${demoDir}/experiments.yaml is invalid:\n  - experiments[0] ("e").variants[0] ("a").algorithm:`,
    );
    expect(existsSync(path.join(demoDir, '.osusume'))).toBe(false);
  });

  it('keeps working after the checkout moves, starts a test there showing progress, and resets only after confirmation', async () => {
    const before = mkdtempSync(path.join(work, 'checkout-'));
    const words = ['disk', 'quota', 'mount', 'kernel', 'network', 'socket', 'printer', 'font'];
    const posts = Array.from({ length: 30 }, (_, i) => ({
      tenantId: 'acme',
      postId: `p${i}`,
      title: `${words[i % 8]} ${words[(i * 3) % 8]} question ${i}`,
      body: `How do I set up the ${words[i % 8]} with a ${words[(i + 1) % 8]}?`,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    }));
    const empty = { ...posts[0]!, postId: 'blank', title: '', body: ' ' };
    writeFileSync(
      path.join(before, 'posts.jsonl'),
      [...posts, empty].map((p) => JSON.stringify(p)).join('\n') + '\n',
    );
    expect((await osusume(['load', '--posts', 'posts.jsonl'], {}, before)).code).toBe(0);
    const first = await osusume(
      ['batch', '--run-id', 'r1', '--skipped', 'skipped.jsonl'],
      {},
      before,
    );
    expect(first.stdout).toContain('1 tenant succeeded, 0 failed');
    expect(first.stdout).toMatch(/^acme +fielded +30 +30 .* 1 empty /m);
    expect(first.stdout).toMatch(/ dups +exact copies of an older post/);
    expect(first.stdout).toContain('1 skipped row listed in skipped.jsonl.');
    expect(JSON.parse(readFileSync(path.join(before, 'skipped.jsonl'), 'utf8'))).toEqual({
      tenantId: 'acme',
      postId: 'blank',
      reason: 'empty',
      detail: 'title and body are empty',
    });
    // The run id is served now: running it again changes nothing, and the summary says so
    // (the progress lines that also say it are cleared on a terminal).
    const again = await osusume(['batch', '--run-id', 'r1'], {}, before);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      'Run r1: 0 tenants succeeded, 0 failed, 1 unchanged (this run id is already served: run with a new run id to serve new data)',
    );
    expect(again.stdout).not.toContain('tenant  algorithms');

    const after = `${before}-moved`;
    renameSync(before, after);
    const second = await osusume(['batch', '--run-id', 'r2'], {}, after);
    expect(second.stderr).not.toContain('outside the artifact folder');
    expect(second.stdout).toContain('1 tenant succeeded, 0 failed');
    expect(second.code).toBe(0);

    // start-test there says, per tenant, how far it is on stderr, as the batch does: a large
    // tenant takes minutes, silent it looked hung. stdout keeps only its report.
    writeFileSync(
      path.join(after, 'experiments.yaml'),
      'experiments:\n  - id: e\n    surface: footer\n    tenants: [acme]\n    variants: [{ name: a, algorithm: lexical }]\n',
    );
    const test = await osusume(['start-test', '--version', 'r3'], {}, after);
    expect(test).toMatchObject({ code: 0, stderr: expect.stringContaining('  acme: lexical\n') });
    expect(test.stderr).toContain('[1/1] acme: done (computed lexical)\n');
    expect(test.stdout).toMatch(
      /^acme: version r3 active \(fielded, lexical, popular; computed lexical, carried over from r2\) in [\d.]+ s\n$/,
    );

    const refused = await osusume(['reset'], {}, after);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pass --yes');
    expect(existsSync(path.join(after, '.osusume/warehouse.duckdb'))).toBe(true);
    const reset = await osusume(['reset', '--yes'], {}, after);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain(`${after}/.osusume/store.lmdb  (the served lists)`);
    for (const gone of ['warehouse.duckdb', 'store.lmdb', 'artifacts'])
      expect(existsSync(path.join(after, '.osusume', gone))).toBe(false);
    expect((await osusume(['reset'], {}, after)).stdout).toBe('No local state to delete.\n');
  });

  it('evaluates quietly, with interactions for co-engagement, leaving out tenants without pairs', async () => {
    const dir = mkdtempSync(path.join(work, 'evaluate-'));
    const words = ['disk', 'quota', 'mount', 'kernel', 'network', 'socket'];
    const items = [
      ...Array.from({ length: 12 }, (_, i) => ({
        tenant: 'acme',
        id: `p${i}`,
        title: `${words[i % 6]} question ${i}`,
        body: `about ${words[(i * 5) % 6]} and ${words[(i + 2) % 6]}`,
      })),
      ...['x', 'y', 'z'].map((id) => ({ tenant: 'lonely', id, title: id, body: `${id} body` })),
      // Its one pair joins two copies of one text: it has pairs, but none to score.
      ...['c1', 'c2'].map((id) => ({ tenant: 'copies', id, title: 'same', body: 'same body' })),
    ];
    writeFileSync(path.join(dir, 'items.jsonl'), items.map((i) => JSON.stringify(i)).join('\n'));
    writeFileSync(
      path.join(dir, 'pairs.tsv'),
      'tenant\ta\tb\nacme\tp0\tp7\nacme\tp2\tp9\ncopies\tc1\tc2\n',
    );
    const events = [
      ['p0', 'p7'],
      ['p2', 'p9'],
    ].flatMap((pair, n) =>
      Array.from({ length: 4 }, (_, u) =>
        pair.map((postId) =>
          JSON.stringify({
            tenantId: 'acme',
            userId: `u${n}-${u}`,
            postId,
            type: 'view',
            ts: '2024-01-02T00:00:00Z',
          }),
        ),
      ).flat(),
    );
    writeFileSync(path.join(dir, 'events.jsonl'), events.join('\n') + '\n');
    const args = ['evaluate', '--items', 'items.jsonl', '--pairs', 'pairs.tsv'];
    const { code, stdout, stderr } = await osusume(
      [...args, '--interactions', 'events.jsonl', '--algorithms', 'coengagement,lexical'],
      {},
      dir,
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const row = (algorithm: string) =>
      stdout
        .split('\n')
        .find((l) => l.startsWith(`acme\t${algorithm}\t`))!
        .split('\t');
    expect(row('coengagement')[2]).toBe('4');
    expect(Number(row('coengagement')[3])).toBe(1); // recall@10: each query's one mate is found
    expect(stdout).not.toContain('lonely');
    expect(stdout).toContain('MACRO (1 tenant)\tlexical\t');
    expect(stdout).toContain(
      'Left out: 2 tenants without a related pair of two different texts in the pairs file (a pair of copies of one text is not scored: lists show one copy).',
    );
  });

  it('deletes the copy of the posts evaluate made when it is interrupted', async () => {
    const dir = mkdtempSync(path.join(work, 'evaluate-interrupted-'));
    const temporary = mkdtempSync(path.join(work, 'tmp-'));
    const words = ['disk', 'quota', 'mount', 'kernel', 'network', 'socket', 'printer', 'font'];
    const items = Array.from({ length: 3000 }, (_, i) => ({
      tenant: `t${i % 3}`,
      id: `p${i}`,
      title: `${words[i % 8]} ${words[(i * 3) % 8]}`,
      body: `${words[(i * 5) % 8]} ${words[(i * 7) % 8]} ${i}`,
    }));
    writeFileSync(path.join(dir, 'items.jsonl'), items.map((i) => JSON.stringify(i)).join('\n'));
    writeFileSync(path.join(dir, 'pairs.tsv'), 'tenant\ta\tb\nt0\tp0\tp3\n');
    const child = spawn(
      process.execPath,
      [BIN, 'evaluate', '--items', 'items.jsonl', '--pairs', 'pairs.tsv'],
      { cwd: dir, env: { ...process.env, TMPDIR: temporary } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Interrupted once its temporary folder (with the copy of the posts) exists.
    while (!readdirSync(temporary).some((f) => f.startsWith('osusume-eval-')))
      await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('SIGINT: stopping what the command started');
    expect(readdirSync(temporary).filter((f) => f.startsWith('osusume-eval-'))).toEqual([]);
  });

  it('stops the Firestore emulator it started when bench store is interrupted', async () => {
    if (firestoreTestMode() === 'skip') return;
    const child = spawn(process.execPath, [BIN, 'bench', 'store', '--quick'], { cwd: work });
    let stderr = '';
    const host = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const started = stderr.match(/Firestore emulator at (\S+):/);
        if (started) resolve(started[1]!);
      });
      child.once('exit', () => reject(new Error(`bench store ended first:\n${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('SIGINT: stopping what the command started');
    const [address, port] = host.split(':');
    const listening = () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(Number(port), address!)
          .once('connect', () => resolve(true))
          .once('error', () => resolve(false));
        socket.unref();
      });
    expect(await listening()).toBe(false);
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(
      processes
        .split('\n')
        .filter((line) => line.includes(`${port}`) && /emulator|java/.test(line)),
    ).toEqual([]);
  });

  it('keeps the npm scripts as aliases', () => {
    const out = execFileSync('npm', ['run', '-s', 'runs', '--', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out).toContain('Usage: osusume runs');
  });

  it('completes commands, subcommands and options in bash', async () => {
    const { stdout: script } = await osusume(['completion']);
    const complete = (line: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _osusume; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).trim();
    expect(complete('osusume te')).toBe('temporal');
    expect(complete('osusume temporal run')).toBe('run-now run-tenant');
    expect(complete('osusume help temporal run')).toBe('run-now run-tenant');
    expect(complete('osusume temporal run-now --')).toBe('--run-id --wait --json --help');
    expect(complete('osusume runs --l')).toBe('--limit');
  });
});
