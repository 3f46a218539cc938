import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.ts';

/** A real Distribution registry (Debian `docker-registry` 2.8) on loopback with filesystem storage. */
export type OciRegistry = {
  url: string;
  host: string;
  port: number;
  /** The docker-registry process id (for CPU accounting in the benchmark). */
  pid: () => number | undefined;
  stop: () => Promise<void>;
};

/**
 * Starts `docker-registry serve` with its own config (no auth, filesystem storage in a temp dir, loopback only).
 * Like the redis starter, a shell holds the server and kills it when this process's pipe closes.
 */
export async function startOciRegistry(
  binary = process.env.DOCKER_REGISTRY_BIN ?? 'docker-registry',
): Promise<OciRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'scope-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: scope-test-registry',
      '',
    ].join('\n'),
  );
  const script =
    'command -v "$0" >/dev/null || { echo "$0: not found" >&2; exit 127; }; "$0" serve "$1" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"';
  const child: ChildProcess = spawn('sh', ['-c', script, binary, config], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(
        child.exitCode === 127
          ? `cannot run ${binary}; install it: apt-get install -y docker-registry`
          : `docker-registry exited with ${child.exitCode}:\n${output}`,
      );
    }
    const ok = await fetch(`${url}/v2/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${url}:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    pid: () => {
      try {
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
          .trim()
          .split(/\s+/);
        return kids[0] ? Number(kids[0]) : undefined;
      } catch {
        return undefined;
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.stdin?.end();
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
