import { parseArgs } from 'node:util';

/**
 * The one argument parser of `switchyard`: every command is declared as data (name, summary,
 * positional arguments, options with help text, an example) and parsed by node:util parseArgs,
 * so each command and group gets the same `--help`, the same usage errors and the same exit codes:
 * 0 ok, 1 failure, 2 usage.
 */

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Repeatable: `--status FAILURE --status ERROR` (values are also split on commas by `list`). */
  readonly multiple?: boolean;
  /** Shown after the option name in help, e.g. `<file>`. */
  readonly placeholder?: string;
  readonly help: string;
}

export interface ArgSpec {
  readonly name: string;
  readonly help: string;
  readonly optional?: boolean;
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Environment (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (tables and in-place redraws) or a pipe (NDJSON, one line per change). */
  readonly isTty?: boolean;
}

export type OptionValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

export interface Invocation {
  readonly values: OptionValues;
  readonly args: readonly string[];
  readonly io: CliIo;
  readonly env: NodeJS.ProcessEnv;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly args?: readonly ArgSpec[];
  readonly options?: Readonly<Record<string, OptionSpec>>;
  readonly example: string;
  run(invocation: Invocation): Promise<number> | number;
}

export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  /** Extra text for the group's help (e.g. environment variables and exit codes at the root). */
  readonly footer?: string;
  readonly commands: readonly CommandNode[];
}

export type CommandNode = Command | CommandGroup;

export const isGroup = (node: CommandNode): node is CommandGroup => 'commands' in node;

/** A problem with how the command was called: printed with a pointer to --help, exit 2. */
export class UsageError extends Error {}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

function optionLabel(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '    ';
  return `${short}--${name}${spec.type === 'string' ? ` ${spec.placeholder ?? '<value>'}` : ''}`;
}

function columns(rows: readonly (readonly [string, string])[], indent = '  '): string {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`.trimEnd()).join('\n');
}

function argsSynopsis(command: Command): string {
  return (command.args ?? []).map((a) => (a.optional ? `[<${a.name}>]` : `<${a.name}>`)).join(' ');
}

export function commandHelp(command: Command, path: string): string {
  const options = { ...command.options, help: HELP_OPTION };
  const parts = [
    `Usage: ${path}${command.args?.length ? ` ${argsSynopsis(command)}` : ''} [options]`,
    command.summary + (command.description ? `\n\n${command.description}` : ''),
  ];
  if (command.args?.length) parts.push(`Arguments:\n${columns(command.args.map((a) => [`<${a.name}>`, a.help]))}`);
  parts.push(`Options:\n${columns(Object.entries(options).map(([name, spec]) => [optionLabel(name, spec), spec.help]))}`);
  parts.push(`Example:\n  ${command.example}`);
  return `${parts.join('\n\n')}\n`;
}

/** Every runnable command under a node, with its full path ("audit verify"). */
export function leafCommands(node: CommandNode, prefix: string[] = []): { path: string[]; command: Command }[] {
  if (!isGroup(node)) return [{ path: prefix, command: node }];
  return node.commands.flatMap((child) => leafCommands(child, [...prefix, child.name]));
}

export function groupHelp(group: CommandGroup, path: string): string {
  const rows = group.commands.flatMap((child) => leafCommands(child, [child.name])).map(({ path: p, command }) => [p.join(' '), command.summary] as const);
  return `Usage: ${path} <command> [options]\n\n${group.summary}\n\nCommands:\n${columns(rows)}\n\nRun \`${path} <command> --help\` for a command's options and an example.\n${group.footer ? `\n${group.footer}` : ''}`;
}

function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function usageFailure(io: CliIo, path: string, message: string): number {
  io.stderr(`${path}: ${message}\nRun \`${path} --help\` for usage.\n`);
  return 2;
}

function parse(command: Command, argv: readonly string[]): { values: OptionValues; args: string[] } {
  const options = Object.fromEntries(Object.entries(command.options ?? {}).map(([name, spec]) => [name, {
    type: spec.type,
    ...(spec.short ? { short: spec.short } : {}),
    ...(spec.multiple ? { multiple: true } : {}),
  }]));
  const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  const specs = command.args ?? [];
  const required = specs.filter((a) => !a.optional).length;
  if (positionals.length > specs.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[specs.length])}`);
  if (positionals.length < required) throw new UsageError(`missing <${specs[positionals.length]!.name}>`);
  return { values: values as OptionValues, args: positionals };
}

/** Runs `argv` against a command tree; `path` is how the node is called ("switchyard keys"). */
export async function runCommandNode(node: CommandNode, argv: readonly string[], io: CliIo, path: string, root = false): Promise<number> {
  if (isGroup(node)) {
    const [first, ...rest] = argv;
    if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
      // A group alone is incomplete (exit 2), except `switchyard` itself, which is how one asks for help.
      const asked = first !== undefined || root;
      (asked ? io.stdout : io.stderr)(groupHelp(node, path));
      return asked ? 0 : 2;
    }
    const child = node.commands.find((c) => c.name === first);
    if (!child) return usageFailure(io, path, first.startsWith('-') ? `unknown option ${first}` : `unknown command ${JSON.stringify(first)}`);
    return runCommandNode(child, rest, io, `${path} ${child.name}`);
  }
  if (wantsHelp(argv)) {
    io.stdout(commandHelp(node, path));
    return 0;
  }
  let parsed: { values: OptionValues; args: string[] };
  try {
    parsed = parse(node, argv);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, path, error.message);
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      // parseArgs' own wording ("Unknown option '--x'..."), less its advice about `--`.
      return usageFailure(io, path, error.message.replace(/\. To specify a positional argument.*$/s, ''));
    }
    throw error;
  }
  try {
    return await node.run({ ...parsed, io, env: io.env ?? process.env });
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, path, error.message);
    throw error;
  }
}

// Typed readers of parsed values.
export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
};
export const booleanOption = (values: OptionValues, name: string): boolean => values[name] === true;
/** A repeatable option, each value also split on commas: `--status FAILURE,ERROR`. */
export const listOption = (values: OptionValues, name: string): string[] | undefined => {
  const v = values[name];
  const all = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  const items = all.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  return items.length > 0 ? items : undefined;
};
export function integerOption(values: OptionValues, name: string, range: { min: number; max: number }): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) throw new UsageError(`--${name} needs an integer from ${range.min} to ${range.max}, received ${JSON.stringify(raw)}`);
  return n;
}
