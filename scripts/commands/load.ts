import type { Command } from 'commander';
import { examples } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('load')
    .description('Load JSONL (optionally .gz) or Parquet exports into the local DuckDB warehouse.')
    .option('--posts <file>', 'posts: tenantId, postId, title, body, createdAt, updatedAt, ...')
    .option('--interactions <file>', 'interactions: tenantId, userId, postId, type, ts')
    .option('--replace', 'replace the table instead of adding to it')
    .option(
      '--skipped <file>',
      'write every skipped row (line number and reason) to FILE as JSON lines',
    )
    .action(async (options) => {
      const { loadCommand } = await import('../load-warehouse.js');
      await loadCommand(options);
    });
  examples(command, [
    ['osusume load --posts posts.jsonl --interactions events.jsonl', 'add to the warehouse'],
    ['osusume load --posts posts.parquet --replace', 'replace all posts'],
    ['osusume load --posts posts.jsonl.gz --skipped skipped.jsonl', 'and list the rows left out'],
  ]);
}
