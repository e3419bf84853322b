/**
 * Starts test/helpers/gateway-child.ts in its own process (for tests that need
 * several instances sharing Redis) and stops it gracefully or with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { GITHUB_TOKEN, WEBHOOK_SECRET } from './stack.ts';

/**
 * The config such tests give every instance: silent, open, no audit, events in
 * the Redis Streams under `streamPrefix` (at `redisUrl`, or the default Redis),
 * and one GitHub backend at `simUrl` (the simulator, signing with WEBHOOK_SECRET).
 */
export function sharedRedisGatewayConfig(options: { simUrl: string; streamPrefix: string; redisUrl?: string }): Record<string, unknown> {
  const { simUrl, streamPrefix, redisUrl } = options;
  return {
    logLevel: 'silent',
    server: { port: 0, host: '127.0.0.1' },
    auth: { mode: 'open' },
    audit: { file: null },
    events: redisUrl === undefined ? { store: 'redis', streamPrefix } : { store: 'redis', redisUrl, streamPrefix },
    backends: [
      {
        name: 'gh', provider: 'github', url: simUrl, token: { value: GITHUB_TOKEN }, webhookSecret: { value: WEBHOOK_SECRET },
        organizations: ['octo-org'], runners: { organizations: ['octo-org'] },
      },
    ],
  };
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly base: string;
  readonly wsUrl: string;
  /** Resolves when the process has exited (for whatever reason). */
  readonly exited: Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  /** Receives each log line (JSON, at the config's logLevel) the child writes to stderr; without it logs are off. */
  readonly onLog?: (line: string) => void;
  /** Poll the backends (off by default). */
  readonly polling?: boolean;
}

export function spawnGatewayProcess(config: unknown, startTimeoutMs = 30_000, options: SpawnOptions = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/gateway-child.ts'], {
    env: { ...process.env, SWITCHYARD_TEST_CONFIG: JSON.stringify(config), ...(options.onLog ? { SWITCHYARD_TEST_LOGS: 'stderr' } : {}), ...(options.polling ? { SWITCHYARD_TEST_POLLING: '1' } : {}) },
    stdio: ['pipe', 'pipe', options.onLog ? 'pipe' : 'inherit'],
  });
  if (options.onLog) {
    const onLog = options.onLog;
    let pending = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line) onLog(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway process did not start within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"port":(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        child, port, exited,
        base: `http://127.0.0.1:${port}`,
        wsUrl: `ws://127.0.0.1:${port}/graphql`,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`gateway process exited before listening (${code ?? signal})`));
    });
  });
}
