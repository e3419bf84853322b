import { adapterFactories } from '../adapters.ts';
import { configIssues, readConfigFile, type GatewayConfig } from '../config/load-config.ts';
import { ConfigError } from '../errors.ts';
import type { KeysCliIo } from './keys.ts';

export const CONFIG_USAGE = `Usage:
  switchyard config check <file.yaml>

  Validates the config and checks that every { env: NAME } secret is set, without starting
  anything. Prints one line per problem (all of them, in one pass) and exits 2, or a summary
  and exits 0.
`;

function summary(file: string, config: GatewayConfig): string {
  const backends = config.backends.map((b) => `${b.name} (${b.provider})`).join(', ');
  const auth = config.auth.mode === 'open' ? 'auth OFF (mode: open)' : `auth required, ${config.auth.apiKeys.filter((k) => !k.revoked).length} API key(s)${config.auth.jwt ? ' + JWT' : ''}`;
  const history = !config.history.enabled ? 'history off' : config.history.url ? 'history on PostgreSQL' : `history on embedded PGlite${config.history.dataDir ? ` in ${config.history.dataDir}` : ' (in memory)'}`;
  return `${file}: ok: ${config.backends.length} backend(s): ${backends}; ${auth}; ${history}; events ${config.events.store}\n`;
}

/** `switchyard config check <file>`: exit 0 valid, 2 problems or usage. */
export function runConfigCli(argv: readonly string[], io: KeysCliIo, env: NodeJS.ProcessEnv = process.env): number {
  const [command, file, ...extra] = argv;
  if (command === '--help' || command === 'help' || command === '-h') {
    io.stdout(CONFIG_USAGE);
    return 0;
  }
  if (command !== 'check' || file === undefined || extra.length > 0) {
    io.stderr(CONFIG_USAGE);
    return 2;
  }
  let raw: unknown;
  try {
    raw = readConfigFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) io.stderr(`${file}: ${issue}\n`);
    return 2;
  }
  const { issues, config } = configIssues(raw, adapterFactories, env);
  for (const issue of issues) io.stderr(`${file}: ${issue}\n`);
  if (!config) return 2;
  io.stdout(summary(file, config));
  return 0;
}
