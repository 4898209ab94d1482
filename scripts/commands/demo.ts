import type { Command } from 'commander';
import { examples } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('demo')
    .description(
      'Load the demo data (Debian manual pages, 16 tenants), run the batch, print related posts and serve them.',
    )
    .option('--keep-server', 'keep the Temporal dev server running afterwards')
    .option('--serve', 'keep the API running afterwards (Ctrl-C stops it)')
    .option(
      '--replace',
      'replace tenants in the warehouse that the demo did not load, without asking',
    )
    .action(async (options) => {
      const { demoCommand } = await import('../demo.js');
      await demoCommand(options);
    });
  examples(command, [
    ['osusume demo', 'the whole tour'],
    ['osusume demo --serve', 'then keep the API up to try it with curl'],
  ]);
}
