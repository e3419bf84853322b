import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { adapterFactories } from '../adapters.ts';
import { configPathFrom, loadConfigFile } from '../config/load-config.ts';
import { startDemo } from '../demo/start-demo.ts';
import { ConfigError, StartupError } from '../errors.ts';
import type { Logger } from 'pino';
import { createGateway } from '../server/create-gateway.ts';
import type { PreparedReload } from '../server/gateway-reload.ts';

/** Reads PORT; a bad value is a config error, not a silent default. */
function portFromEnv(fallback: number): number {
  const raw = process.env.PORT;
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError([`PORT: expected an integer from 0 to 65535, received ${JSON.stringify(raw)}`], 'environment');
  }
  return port;
}

interface Running {
  readonly log: Logger;
  close(): Promise<void>;
}

async function startConfigured(configPath: string): Promise<Running> {
  const config = loadConfigFile(configPath, adapterFactories);
  const gateway = createGateway({ config, factories: adapterFactories });
  gateway.audit.append({
    kind: 'config-load',
    source: configPath,
    backends: config.backends.map((b) => b.name),
    configSha256: createHash('sha256').update(readFileSync(configPath)).digest('hex'),
    demo: false,
  });
  // SIGHUP: the config is read and checked again; what can change live does, the rest is named.
  let current = config;
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    // One reload at a time: each diffs against what the one before it left running.
    reloading = reloading.then(async () => {
      let prepared: PreparedReload;
      try {
        prepared = gateway.prepareReload(current, loadConfigFile(configPath, adapterFactories));
      } catch (error) {
        const lines = error instanceof ConfigError ? error.issues : [error instanceof Error ? error.message : String(error)];
        gateway.log.error({ problems: lines }, `config reload refused, nothing changed: ${lines.join('; ')}`);
        return;
      }
      const { applied, restart } = prepared;
      await prepared.apply();
      // What still runs as before stays in `current`, so the next reload reports it again until a restart.
      current = prepared.running;
      gateway.log.info({ applied, restart }, applied.length + restart.length === 0
        ? 'config reloaded: no change'
        : `config reloaded: ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'nothing applied'}${restart.length > 0 ? `; needs a restart: ${restart.join(', ')}` : ''}`);
    }).catch((error: unknown) => gateway.log.error({ err: error instanceof Error ? error.message : String(error) }, 'config reload failed'));
  });
  const { url } = await gateway.listen(portFromEnv(config.server.port));
  gateway.log.info({ url, backends: config.backends.map((b) => b.name) }, `Switchyard ready: ${url}`);
  return { log: gateway.log, close: () => gateway.close() };
}

async function startDemoMode(): Promise<Running> {
  const demo = await startDemo({ factories: adapterFactories, port: portFromEnv(4000) });
  demo.gateway.log.warn(
    { url: demo.url },
    `DEMO MODE: no config given (--config or SWITCHYARD_CONFIG), serving simulated backends. Open ${demo.url}`,
  );
  return { log: demo.gateway.log, close: () => demo.close() };
}

/** SIGTERM and SIGINT close the gateway (bounded), log one line and exit 0; a failed close exits 1. */
function closeOnSignals(running: Running): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    const started = Date.now();
    running.log.info({ signal }, `${signal} received: closing connections and flushing history`);
    // Bounded: a stuck close must not keep the process alive forever.
    setTimeout(() => {
      running.log.error({ signal }, 'shutdown took over 10 s; exiting anyway');
      process.exit(1);
    }, 10_000).unref();
    void running.close().then(
      () => {
        running.log.info({ signal, ms: Date.now() - started }, 'Switchyard stopped');
        process.exit(0);
      },
      (error: unknown) => {
        running.log.error({ signal, err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

export interface RunGatewayOptions {
  /** `switchyard serve`: a config is required; demo mode is never started by accident in production. */
  readonly requireConfig: boolean;
}

/**
 * Runs the gateway until a signal; exits 2 with one line per problem on a config or start-up error.
 * Never resolves with a result: the process's exit code is the outcome.
 */
export async function runGateway(argv: readonly string[], options: RunGatewayOptions): Promise<void> {
  try {
    const configPath = configPathFrom(argv, process.env);
    if (!configPath && options.requireConfig) {
      throw new ConfigError(['--config: expected a config file (or SWITCHYARD_CONFIG), received nothing; `switchyard start` without one runs demo mode'], 'command line');
    }
    closeOnSignals(configPath ? await startConfigured(configPath) : await startDemoMode());
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StartupError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  }
}
