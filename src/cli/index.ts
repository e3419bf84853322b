import { runAuditCli } from './audit.ts';
import { runConfigCli } from './config.ts';
import { runKeysCli } from './keys.ts';
import { runGateway } from './run-gateway.ts';

const USAGE = `Usage: switchyard <command>

  serve --config file.yaml       run the gateway for production (a config is required)
  start [--config file.yaml]     run the gateway (demo mode without a config)
  config check <file.yaml>       validate a config (every problem, secrets' variables included) without starting
  keys create <id> [options]     create an API key (printed once) and its config entry
  audit verify <file>            check an audit log's hash chain for tampering

Run a command with --help for its options.`;

/** The `switchyard` command: dispatches to the gateway or a tool. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const io = { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) };
  const [command, ...rest] = argv;
  switch (command) {
    case 'keys':
      return runKeysCli(rest, io);
    case 'config':
      return runConfigCli(rest, io);
    case 'audit':
      return runAuditCli(rest, io);
    case 'serve':
    case undefined:
    case 'start':
      if (rest.includes('--help')) {
        io.stdout(`${USAGE}\n`);
        return 0;
      }
      await runGateway(rest, { requireConfig: command === 'serve' });
      return -1; // the gateway keeps running until a signal
    default:
      io.stderr(`${USAGE}\n`);
      return command === '--help' || command === 'help' ? 0 : 2;
  }
}
