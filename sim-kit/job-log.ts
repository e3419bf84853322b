/**
 * Realistic job logs for the simulators (issue 17): ANSI colours, sections in the provider's own
 * markers, a size that grows with the job's planned duration (several MB for a long job), and
 * growth while the job runs. Deterministic from a seed. Each simulator supplies its `LogStyle`
 * (GitLab `section_start`, GitHub `##[group]`, Jenkins `[Pipeline]` lines) and serves `read()`
 * through its provider's endpoint; tests can `append` exact text as a runner would upload it.
 */
import { createRandom, type Random } from './seeded-random.ts';

/** How a provider writes section markers and line prefixes. */
export interface LogStyle {
  /** The line(s) opening a section, newline included. `atMs`: when it opens. */
  sectionStart(name: string, title: string, atMs: number): string;
  /** The line(s) closing it, newline included (may be empty where the provider marks no end). */
  sectionEnd(name: string, atMs: number): string;
  /** Written before every content line (GitHub: an ISO timestamp and a space); '' for none. */
  linePrefix(atMs: number): string;
}

export type LogOutcome = 'success' | 'failure' | 'canceled';

export interface ScriptOptions {
  /** The job's name (shapes the content: build, test, lint, deploy). */
  readonly name: string;
  /** When the job started, in the simulator's clock. */
  readonly startedAtMs: number;
  /** How long the job is planned to run: the script's lines are spread over it. */
  readonly plannedDurationMs: number;
  /** Bytes of content per planned second (default 2,000: a 30-minute job writes about 3.6 MB). */
  readonly bytesPerSecond?: number;
}

const ESC = '\u001b';
const green = (s: string) => `${ESC}[32m${s}${ESC}[0m`;
const red = (s: string) => `${ESC}[31;1m${s}${ESC}[0m`;
const yellow = (s: string) => `${ESC}[33m${s}${ESC}[0m`;
const dim = (s: string) => `${ESC}[2m${s}${ESC}[0m`;
const bold = (s: string) => `${ESC}[1m${s}${ESC}[0m`;

interface ScriptLine {
  readonly atMs: number;
  /** A content line (without prefix or newline), or a section boundary. */
  readonly text?: string;
  readonly open?: { readonly name: string; readonly title: string };
  readonly close?: string;
}

const SECTIONS = [
  { name: 'prepare_executor', title: 'Preparing the environment' },
  { name: 'get_sources', title: 'Getting source from Git repository' },
  { name: 'install', title: 'Installing dependencies' },
  { name: 'step_script', title: 'Executing the job script' },
  { name: 'upload_artifacts', title: 'Uploading artifacts' },
] as const;

function contentLine(random: Random, section: string, index: number): string {
  switch (section) {
    case 'prepare_executor':
      return random.pick([`Using docker image sha256:${random.hex(12)} for node:20-bookworm`, `Running on runner-${random.hex(8)} via ci-${random.int(1, 40)}...`, dim(`Pulling docker image node:20-bookworm ...`)]);
    case 'get_sources':
      return random.pick([`Fetching changes with git depth set to 20...`, `Checking out ${random.hex(8)} as detached HEAD (ref is main)...`, `Skipping Git submodules setup`]);
    case 'install':
      return random.pick([`added ${random.int(200, 1800)} packages, and audited ${random.int(200, 1800)} packages in ${random.int(3, 40)}s`, yellow(`npm warn deprecated inflight@1.0.6: This module is not supported`), `${random.int(80, 300)} packages are looking for funding`]);
    case 'upload_artifacts':
      return random.pick([`Uploading artifacts for successful job...`, `coverage/: found ${random.int(10, 400)} matching artifact files and directories`]);
    default:
      return index % 25 === 0
        ? bold(` RUN  v3.2.4 /builds/app`)
        : `  ${green('✓')} test/${random.pick(['api', 'unit', 'integration', 'e2e'])}/${random.pick(['auth', 'cache', 'queue', 'billing', 'search'])}-${random.int(1, 99)}.test.ts ${dim(`(${random.int(1, 40)} tests) ${random.int(2, 900)}ms`)}`;
  }
}

/** The scripted content of one job: sections of lines spread evenly over its planned duration. */
function script(random: Random, options: ScriptOptions): ScriptLine[] {
  const seconds = Math.max(1, options.plannedDurationMs / 1000);
  const targetBytes = seconds * (options.bytesPerSecond ?? 2_000);
  // Each section writes its share of the bytes (at least 3 lines), then the lines are spread over the duration.
  const weights = [0.05, 0.05, 0.15, 0.7, 0.05];
  const lines: Omit<ScriptLine, 'atMs'>[] = [];
  SECTIONS.forEach((section, s) => {
    lines.push({ open: section });
    let bytes = 0;
    for (let i = 0; i < 3 || bytes < targetBytes * weights[s]!; i++) {
      const text = contentLine(random, section.name, i);
      bytes += Buffer.byteLength(text) + 1;
      lines.push({ text });
    }
    lines.push({ close: section.name });
  });
  return lines.map((line, i) => ({ ...line, atMs: options.startedAtMs + Math.floor((i / lines.length) * options.plannedDurationMs) }));
}

/** One job's log as its upstream would serve it now. */
class JobLogText {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private joined: Buffer | null = Buffer.alloc(0);
  private revealed = 0;
  complete = false;

  constructor(private readonly style: LogStyle, private readonly lines: readonly ScriptLine[]) {}

  write(text: string): void {
    if (this.complete || text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    this.parts.push(bytes);
    this.size += bytes.length;
    this.joined = null;
  }

  /** Writes the scripted lines due by `nowMs` (all of them with Infinity). */
  reveal(nowMs: number): void {
    let out = '';
    while (this.revealed < this.lines.length && this.lines[this.revealed]!.atMs <= nowMs) {
      const line = this.lines[this.revealed++]!;
      if (line.open) out += this.style.sectionStart(line.open.name, line.open.title, line.atMs);
      else if (line.close) out += this.style.sectionEnd(line.close, line.atMs);
      else out += `${this.style.linePrefix(line.atMs)}${line.text}\n`;
    }
    this.write(out);
  }

  bytes(): Buffer {
    this.joined ??= Buffer.concat(this.parts, this.size);
    return this.joined;
  }
}

const FOOTER: Record<LogOutcome, (prefix: string) => string> = {
  success: (p) => `${p}${green('Job succeeded')}\n`,
  failure: (p) => `${p}${red('FAIL')} test/api/billing-7.test.ts > invoices > rounds totals\n${p}${red('AssertionError: expected 10.01 to be 10')}\n${p}${red('ERROR: Job failed: exit code 1')}\n`,
  canceled: (p) => `${p}${yellow('ERROR: Job failed: canceled')}\n`,
};

/**
 * Every job log of one simulator, keyed by the simulator's job id (any string). A job with no
 * entry has no log (never started): `read` answers null.
 */
export class SimLogBook {
  private readonly logs = new Map<string, JobLogText>();
  private readonly random: Random;

  constructor(private readonly style: LogStyle, seed = 17) {
    this.random = createRandom(seed);
  }

  /** The job started: its scripted log begins, revealed as the simulator's clock passes its lines. */
  start(jobKey: string, options: ScriptOptions): void {
    if (this.logs.has(jobKey)) return;
    this.logs.set(jobKey, new JobLogText(this.style, script(this.random, options)));
  }

  /** The job started with no scripted content: only what `append` writes (tests wanting exact text). */
  startEmpty(jobKey: string): void {
    if (!this.logs.has(jobKey)) this.logs.set(jobKey, new JobLogText(this.style, []));
  }

  /** Exact text, as a runner would upload it (after the scripted lines due by `nowMs`). Ignored once complete. */
  append(jobKey: string, text: string, nowMs: number): void {
    const log = this.logs.get(jobKey);
    if (!log) throw new Error(`no log for job ${jobKey}: start it first`);
    log.reveal(nowMs);
    log.write(text);
  }

  /** The job ended: every remaining scripted line, then the provider-neutral footer for `outcome`. */
  finish(jobKey: string, outcome: LogOutcome, nowMs: number): void {
    const log = this.logs.get(jobKey);
    if (!log || log.complete) return;
    log.reveal(Infinity);
    log.write(FOOTER[outcome](this.style.linePrefix(nowMs)));
    log.complete = true;
  }

  /** The bytes served at `nowMs`, or null when the job has no log. */
  read(jobKey: string, nowMs: number): { readonly bytes: Buffer; readonly complete: boolean } | null {
    const log = this.logs.get(jobKey);
    if (!log) return null;
    if (!log.complete) log.reveal(nowMs);
    return { bytes: log.bytes(), complete: log.complete };
  }

  /** Forgets a job's log (erased, expired). */
  erase(jobKey: string): void {
    this.logs.delete(jobKey);
  }
}
