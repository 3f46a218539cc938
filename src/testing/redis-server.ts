import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real redis-server on a free loopback port, owned by whoever started it (test run, demo, benchmark). */
export type RedisServer = { url: string; port: number; stop: () => Promise<void> };

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  srv.close();
  if (addr === null || typeof addr === 'string') throw new Error('could not get a free port');
  return addr.port;
}

/**
 * Starts redis-server without persistence. A shell holds the server and kills it when its stdin, a pipe from
 * this process, closes, so a run killed by a signal or by running out of heap leaves no server behind.
 */
export async function startRedisServer(
  binary = process.env.REDIS_SERVER_BIN ?? 'redis-server',
  /** `dir` + `appendonly` let a test stop the server and start it again on the same port with its data. */
  opts: { port?: number; dir?: string; appendonly?: boolean; extraArgs?: string[] } = {},
): Promise<RedisServer> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'scope-redis-')));
  const port = opts.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--dir',
    dir,
    ...(opts.extraArgs ?? []),
  ];
  const script =
    'command -v "$0" >/dev/null || { echo "$0: not found" >&2; exit 127; }; "$0" "$@" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"';
  const child: ChildProcess = spawn('sh', ['-c', script, binary, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          code === 127
            ? `cannot run ${binary}; install it: apt-get install -y redis-server`
            : `redis-server exited with ${code}:\n${output}`,
        ),
      );
    });
  });
  await ready;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.stdin?.end();
        await exited;
      }
      if (opts.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
