import type { Command } from 'commander';
import { examples, integer } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('api')
    .description('Serve the active lists over HTTP (Ctrl-C stops it after in-flight requests).')
    .option('--port <port>', 'port to listen on (default: PORT, else api.port)', integer(0, 65535))
    .action(async (options) => {
      const { apiCommand } = await import('../../api/server.js');
      await apiCommand(options);
    });
  examples(command, [
    ['osusume api', 'on api.port (8080)'],
    ['osusume api --port 9000', 'on another port'],
  ]);
}
