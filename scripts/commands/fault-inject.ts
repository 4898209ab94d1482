import { Option, type Command } from 'commander';
import { examples, integer } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('fault-inject')
    .description(
      'Kill the batch with SIGKILL at random moments and check after each kill that every tenant serves one whole version, that the re-run succeeds, and that collection leaves nothing behind.',
    )
    .option('--kills <n>', 'SIGKILLs to inject', integer(1, 100_000), 100)
    .addOption(
      new Option('--store <kind>', 'the store to run against (firestore: the emulator only)')
        .choices(['lmdb', 'firestore'])
        .default('lmdb'),
    )
    .option('--seed <n>', 'seed of the kill times and the data', integer(0, 2 ** 31), 1)
    .action(async (options) => {
      const { faultInjectCommand } = await import('../fault-inject.js');
      await faultInjectCommand(options);
    });
  examples(command, [
    ['osusume fault-inject --kills 100', '100 kills on LMDB (about 10 minutes)'],
    [
      'FIRESTORE_EMULATOR_HOST=127.0.0.1:8086 osusume fault-inject --store firestore',
      'the same on the Firestore emulator',
    ],
  ]);
}
