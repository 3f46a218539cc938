import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';

/**
 * A loopback TCP proxy that can make what is behind it unreachable (`down`: connections refused and cut) or
 * hang (`blackhole`: connections stay open, bytes are held), then bring it back (`up` / `release`).
 * Tests use it in front of Redis to reproduce outages without touching the shared redis-server.
 */
export type TcpProxy = {
  readonly port: number;
  down(): void;
  up(): void;
  blackhole(): void;
  release(): void;
  close(): Promise<void>;
};

type Pair = { client: Socket; upstream: Socket; held: { toUp: Buffer[]; toClient: Buffer[] } };

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'up' | 'down' | 'blackhole' = 'up';
  const pairs = new Set<Pair>();
  const server = createServer((client) => {
    if (mode === 'down') {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    const pair: Pair = { client, upstream, held: { toUp: [], toClient: [] } };
    pairs.add(pair);
    client.on('data', (d: Buffer) => {
      if (mode === 'blackhole') pair.held.toUp.push(d);
      else upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (mode === 'blackhole') pair.held.toClient.push(d);
      else client.write(d);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp proxy: no port');
  return {
    port: address.port,
    down: () => {
      mode = 'down';
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    up: () => {
      mode = 'up';
    },
    blackhole: () => {
      mode = 'blackhole';
    },
    release: () => {
      mode = 'up';
      for (const p of pairs) {
        for (const d of p.held.toUp.splice(0)) p.upstream.write(d);
        for (const d of p.held.toClient.splice(0)) p.client.write(d);
      }
    },
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
