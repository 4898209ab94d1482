import { Option, type Command } from 'commander';
import { commaSeparated, examples, integer } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('fault-inject')
    .description(
      'Kill the batch (or the Temporal worker running it) with SIGKILL at random moments of every step and check after each kill that every tenant serves one whole version, that the killed run completes, and that collection leaves nothing behind.',
    )
    .option('--kills <n>', 'SIGKILLs to inject', integer(1, 100_000), 100)
    .addOption(
      new Option('--store <kind>', 'the store to run against (firestore: the emulator only)')
        .choices(['lmdb', 'firestore'])
        .default('lmdb'),
    )
    .addOption(
      new Option(
        '--target <what>',
        'what is killed: the local batch, or the Temporal worker running the batch workflow on a dev server started for the run',
      )
        .choices(['batch', 'temporal'])
        .default('batch'),
    )
    .option('--seed <n>', 'seed of the kill times and the data', integer(0, 2 ** 31), 1)
    .option(
      '--aim <steps>',
      'aim every kill at these steps (comma-separated: start, extract, storeLists, activate, ...; Temporal also planRun, readTenants)',
      commaSeparated,
    )
    .option(
      '--aim-within <ms>',
      "with --aim: kills fall within this many ms of the aimed step's start (default: anywhere in it)",
      integer(0, 600_000),
    )
    .action(async (options) => {
      const { faultInjectCommand } = await import('../fault-inject.js');
      await faultInjectCommand(options);
    });
  examples(command, [
    ['osusume fault-inject --kills 100', '100 kills of the batch on LMDB (about 10 minutes)'],
    ['osusume fault-inject --kills 100 --target temporal', '100 kills of Temporal workers'],
    [
      'FIRESTORE_EMULATOR_HOST=127.0.0.1:8086 osusume fault-inject --store firestore',
      'the same on the Firestore emulator',
    ],
    [
      'FIRESTORE_EMULATOR_HOST=127.0.0.1:8086 osusume fault-inject --store firestore --aim activate --aim-within 30',
      "kills inside activate's transaction",
    ],
  ]);
}
