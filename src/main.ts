import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { adapterFactories } from './adapters.ts';
import { configPathFrom, loadConfigFile } from './config/load-config.ts';
import { startDemo } from './demo/start-demo.ts';
import { ConfigError, StartupError } from './errors.ts';
import { createGateway } from './server/create-gateway.ts';

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

async function main(): Promise<void> {
  const configPath = configPathFrom(process.argv.slice(2), process.env);
  let close: () => Promise<void>;
  if (configPath) {
    const config = loadConfigFile(configPath, adapterFactories);
    const gateway = createGateway({ config, factories: adapterFactories });
    gateway.audit.append({
      kind: 'config-load',
      source: configPath,
      backends: config.backends.map((b) => b.name),
      configSha256: createHash('sha256').update(readFileSync(configPath)).digest('hex'),
      demo: false,
    });
    // SIGHUP re-reads the config's API keys: revoked or removed keys stop working and their live streams end.
    process.on('SIGHUP', () => {
      try {
        const reloaded = loadConfigFile(configPath, adapterFactories);
        void gateway.reloadApiKeys(reloaded.auth.apiKeys);
        gateway.log.info('API keys reloaded');
      } catch (error) {
        gateway.log.error({ err: error instanceof Error ? error.message : String(error) }, 'config reload failed; keeping the current keys');
      }
    });
    const { url } = await gateway.listen(portFromEnv(config.server.port));
    gateway.log.info({ url, backends: config.backends.map((b) => b.name) }, `Switchyard ready: ${url}`);
    close = () => gateway.close();
  } else {
    const demo = await startDemo({ factories: adapterFactories, port: portFromEnv(4000) });
    demo.gateway.log.warn(
      { url: demo.url },
      `DEMO MODE: no config given (--config or SWITCHYARD_CONFIG), serving simulated backends. Open ${demo.url}`,
    );
    close = () => demo.close();
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    // Bounded: a stuck close must not keep the process alive forever.
    setTimeout(() => process.exit(1), 10_000).unref();
    void close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`shutdown after ${signal} failed:`, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
