import { verifyAuditLog, type VerifyOptions } from '../audit/verify.ts';

/**
 * `switchyard audit verify <file> [--head <file> | --no-head] [--expect-seq N] [--expect-hash HEX] [--key-env NAME] [--json]`
 *
 * Exit codes: 0 the chain is intact, 1 tampered (or unreadable), 2 usage.
 */

export interface AuditCliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Where --key-env reads the key (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export const AUDIT_USAGE = `Usage:
  switchyard audit verify <file> [--head <file> | --no-head] [--expect-seq N] [--expect-hash HEX] [--key-env NAME] [--json]

  Checks the hash chain of an audit log: edited, deleted, inserted, reordered
  or truncated records are reported with the first bad line.
  --head          head checkpoint to anchor the end of the log (default: <file>.head;
                  a non-empty log without one fails)
  --no-head       ignore the head checkpoint (verifies the chain alone)
  --key-env       name of the environment variable holding the audit key (audit.hmacKey);
                  required for a keyed log
  --expect-seq    the log must reach this seq (e.g. from an off-host checkpoint)
  --expect-hash   ... and the record there must have this hash
  --json          print the result as JSON
`;

function usage(io: AuditCliIo, message: string): number {
  io.stderr(`switchyard audit: ${message}\n\n${AUDIT_USAGE}`);
  return 2;
}

export async function runAuditCli(argv: readonly string[], io: AuditCliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout)(AUDIT_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'verify') return usage(io, `unknown command "${command}"`);

  let file: string | undefined;
  let headFile: string | false | undefined;
  let expectSeq: number | undefined;
  let expectHash: string | undefined;
  let json = false;
  let keyEnv: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : rest[++i]);
    switch (flag) {
      case '--head': {
        const v = takeValue();
        if (v === undefined || v === '') return usage(io, '--head needs a file');
        headFile = v;
        break;
      }
      case '--no-head':
        headFile = false;
        break;
      case '--expect-seq': {
        const v = takeValue();
        const n = v === undefined ? NaN : Number(v);
        if (!Number.isSafeInteger(n) || n < 0) return usage(io, '--expect-seq needs a non-negative integer');
        expectSeq = n;
        break;
      }
      case '--expect-hash': {
        const v = takeValue();
        if (v === undefined || !/^[0-9a-f]{64}$/.test(v)) return usage(io, '--expect-hash needs 64 lower-case hex digits');
        expectHash = v;
        break;
      }
      case '--key-env': {
        const v = takeValue();
        if (v === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) return usage(io, '--key-env needs an environment variable name');
        keyEnv = v;
        break;
      }
      case '--json':
        json = true;
        break;
      default:
        if (arg.startsWith('-')) return usage(io, `unknown option ${arg}`);
        if (file !== undefined) return usage(io, 'only one file');
        file = arg;
    }
  }
  if (file === undefined) return usage(io, 'verify needs a file');
  // The key is read from the environment, never from the command line (visible in ps).
  const hmacKey = keyEnv === undefined ? undefined : (io.env ?? process.env)[keyEnv];
  if (keyEnv !== undefined && (hmacKey === undefined || hmacKey === '')) return usage(io, `--key-env: ${keyEnv} is not set`);

  const options: VerifyOptions = {
    ...(headFile !== undefined ? { headFile } : {}),
    ...(hmacKey !== undefined ? { hmacKey } : {}),
    ...(expectSeq !== undefined || expectHash !== undefined
      ? { expect: { ...(expectSeq !== undefined ? { lastSeq: expectSeq } : {}), ...(expectHash !== undefined ? { lastHash: expectHash } : {}) } }
      : {}),
  };
  const result = await verifyAuditLog(file, options);
  if (json) {
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
}
