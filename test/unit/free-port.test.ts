import { createServer, type Server } from 'node:net';
import { freePort, PORT_RANGE } from '../../src/runtime/free-port';

function listen(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('freePort', () => {
  it('draws below the kernel ephemeral range, where no listen(0) or outgoing connection lands', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(PORT_RANGE.first);
      expect(port).toBeLessThanOrEqual(PORT_RANGE.last);
    }
  });

  it('never hands out the same port twice, even when neither is bound yet', async () => {
    const range = { first: 31_000, last: 31_003 };
    const ports = [await freePort(range), await freePort(range), await freePort(range)];
    expect(new Set(ports).size).toBe(3);
  });

  it('skips a port something already listens on, and says so when a range has none left', async () => {
    const taken = await listen(31_500);
    try {
      await expect(freePort({ first: 31_500, last: 31_500 })).rejects.toThrow(
        'no free TCP port on 127.0.0.1 in 31500-31500',
      );
      const both = await listen(31_501);
      both.close();
      expect(await freePort({ first: 31_500, last: 31_501 })).toBe(31_501);
    } finally {
      taken.close();
    }
  });
});
