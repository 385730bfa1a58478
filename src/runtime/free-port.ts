import { createServer } from 'node:net';

/**
 * Ports are handed out below Linux's ephemeral range (32768–60999 by default). A port the kernel
 * picked for `listen(0)` and that was then closed is soon handed again to an outgoing connection's
 * local end or to another server's `listen(0)` (the embedded Temporal server picks its metrics and
 * HTTP ports so), and the server that was told the port then fails with EADDRINUSE. Nothing takes
 * a port below that range unless asked for it.
 */
export const PORT_RANGE = { first: 20_000, last: 32_767 } as const;

/** Ports this process handed out already: two asks before either is bound get two ports. */
const handedOut = new Set<number>();

function listensOn(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1 now (for servers that must be told their port in advance), drawn
 * at random from `range` (a part of PORT_RANGE: processes that run side by side can each take a
 * part, so that they never draw the same port).
 */
export async function freePort(range: { first: number; last: number } = PORT_RANGE): Promise<number> {
  const size = range.last - range.first + 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = range.first + Math.floor(Math.random() * size);
    if (handedOut.has(port)) continue;
    if (await listensOn(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port on 127.0.0.1 in ${range.first}-${range.last}`);
}
