/**
 * Ctrl-C (or SIGTERM) during a command: stop what it started, newest first, then exit. Needed
 * for what the terminal's SIGINT does not reach: the Firestore emulator runs in its own process
 * group (so that stopping gcloud also stops its Java child), and temporary folders (evaluate's
 * holds a copy of the user's posts).
 */
type Cleanup = () => unknown;

const cleanups: Cleanup[] = [];
let installed = false;

async function shutdown(signal: NodeJS.Signals): Promise<never> {
  process.stderr.write(`\n${signal}: stopping what the command started...\n`);
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`  cleanup failed: ${(error as Error).message}\n`);
    }
  }
  process.exit(130);
}

/** Registers `cleanup` for an interrupted run; the returned function unregisters it (normal end). */
export function onInterrupt(cleanup: Cleanup): () => void {
  if (!installed) {
    installed = true;
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, (s) => void shutdown(s));
  }
  cleanups.push(cleanup);
  return () => {
    const i = cleanups.indexOf(cleanup);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
