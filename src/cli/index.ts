import { runCommandNode, type CliIo } from './command.ts';
import { rootCommand } from './commands.ts';

/**
 * The `switchyard` command: the gateway (serve, start), its tools, and the client commands.
 * Resolves with the exit code, or -1 while a gateway keeps the process running.
 */
export function runCli(argv: readonly string[], io?: CliIo): Promise<number> {
  return runCommandNode(rootCommand, argv, io ?? {
    stdout: (t: string) => void process.stdout.write(t),
    stderr: (t: string) => void process.stderr.write(t),
    env: process.env,
    isTty: process.stdout.isTTY === true,
  }, 'switchyard', true);
}
