import { connect, createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it), for servers started by tests and tools. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** How long probeAddress waits for a TCP connection before calling the address dead. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Why a TCP connection to `address` (host:port, [v6]:port, or a host alone, then on `defaultPort`)
 * failed, in words; null once something accepts it. A server that is not there is then reported
 * at once, where a gRPC client retries it until its own deadline (a minute) and says only
 * "UNAVAILABLE".
 */
export function probeAddress(
  address: string,
  defaultPort: number,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<string | null> {
  const colon = address.lastIndexOf(':');
  const host = colon > 0 ? address.slice(0, colon).replace(/^\[|\]$/g, '') : address;
  const port = colon > 0 ? Number(address.slice(colon + 1)) : defaultPort;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | null) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(
        error.code === 'ECONNREFUSED'
          ? 'connection refused: nothing listens there'
          : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
            ? `the host name ${host} does not resolve`
            : (error.code ?? error.message),
      ),
    );
  });
}
