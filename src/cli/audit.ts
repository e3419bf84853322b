import { verifyAuditLog, type VerifyOptions } from '../audit/verify.ts';
import { booleanOption, runCommandNode, stringOption, UsageError, type CliIo, type Command, type CommandGroup } from './command.ts';

/** `switchyard audit verify`. Exit codes: 0 the chain is intact, 1 tampered (or unreadable), 2 usage. */
export const auditVerifyCommand: Command = {
  name: 'verify',
  summary: "check an audit log's hash chain for tampering",
  description: 'Edited, deleted, inserted, reordered or truncated records are reported with the first bad line.\nExit codes: 0 intact, 1 tampered or unreadable, 2 usage.',
  args: [{ name: 'file', help: 'the audit log (JSON lines)' }],
  options: {
    head: { type: 'string', placeholder: '<file>', help: 'head checkpoint anchoring the end of the log (default: <file>.head; a non-empty log without one fails)' },
    'no-head': { type: 'boolean', help: 'ignore the head checkpoint (verifies the chain alone)' },
    'key-env': { type: 'string', placeholder: '<NAME>', help: 'environment variable holding the audit key (audit.hmacKey); required for a keyed log' },
    'expect-seq': { type: 'string', placeholder: '<N>', help: 'the log must reach this seq (e.g. from an off-host checkpoint)' },
    'expect-hash': { type: 'string', placeholder: '<HEX>', help: '... and the record there must have this hash' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  example: 'switchyard audit verify /var/log/switchyard/audit.jsonl --key-env SWITCHYARD_AUDIT_KEY',
  async run({ values, args, io, env }) {
    const file = args[0]!;
    const head = stringOption(values, 'head');
    if (head === '') throw new UsageError('--head needs a file');
    const headFile: string | false | undefined = booleanOption(values, 'no-head') ? false : head;
    const seqRaw = stringOption(values, 'expect-seq');
    const expectSeq = seqRaw === undefined ? undefined : Number(seqRaw);
    if (expectSeq !== undefined && (!Number.isSafeInteger(expectSeq) || expectSeq < 0)) throw new UsageError('--expect-seq needs a non-negative integer');
    const expectHash = stringOption(values, 'expect-hash');
    if (expectHash !== undefined && !/^[0-9a-f]{64}$/.test(expectHash)) throw new UsageError('--expect-hash needs 64 lower-case hex digits');
    const keyEnv = stringOption(values, 'key-env');
    if (keyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyEnv)) throw new UsageError('--key-env needs an environment variable name');
    // The key is read from the environment, never from the command line (visible in ps).
    const hmacKey = keyEnv === undefined ? undefined : env[keyEnv];
    if (keyEnv !== undefined && (hmacKey === undefined || hmacKey === '')) throw new UsageError(`--key-env: ${keyEnv} is not set`);

    const options: VerifyOptions = {
      ...(headFile !== undefined ? { headFile } : {}),
      ...(hmacKey !== undefined ? { hmacKey } : {}),
      ...(expectSeq !== undefined || expectHash !== undefined
        ? { expect: { ...(expectSeq !== undefined ? { lastSeq: expectSeq } : {}), ...(expectHash !== undefined ? { lastHash: expectHash } : {}) } }
        : {}),
    };
    const result = await verifyAuditLog(file, options);
    if (booleanOption(values, 'json')) {
      io.stdout(JSON.stringify(result) + '\n');
    } else if (result.ok) {
      io.stdout(`OK ${result.records} records, ${result.recordsPerSecond} records/s\n`);
      if (result.anchor === undefined) {
        io.stderr('note: no head checkpoint or expected anchor; truncation at a record boundary cannot be detected\n');
      }
    } else {
      io.stdout(`TAMPERED at line ${result.firstBadLine ?? 0}: ${result.problem ?? 'unknown problem'}\n`);
    }
    return result.ok ? 0 : 1;
  },
};

export const auditGroup: CommandGroup = { name: 'audit', summary: 'tools for the audit log', commands: [auditVerifyCommand] };

export type AuditCliIo = CliIo;

/** `switchyard audit ...` with its own output (tests and embedding). */
export function runAuditCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommandNode(auditGroup, argv, io, 'switchyard audit');
}
