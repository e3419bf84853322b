/**
 * Build consoles of the simulated controller (issue 17): what `logText/progressiveText` and
 * `consoleText` serve. Content comes from sim-kit's SimLogBook in Jenkins' style: Pipeline
 * sections as `[Pipeline] stage` / `[Pipeline] { (<name>)` … `[Pipeline] }` / `[Pipeline] // stage`,
 * no line prefix (no Timestamper), ANSI colours kept (the AnsiColor plugin's raw codes).
 *
 * A console is opened the first time it is read, not when the build starts: it is written by
 * the simulator's clock from the build's start (so it grows while the build runs, and is the
 * same whenever it is first read), and the thousands of seeded past builds cost nothing until
 * someone reads one. Once the build stopped, the rest is revealed, SimLogBook's footer follows
 * and then Jenkins' own last line, `Finished: <RESULT>`.
 */
import { SimLogBook, type LogOutcome, type LogStyle } from '../../../sim-kit/job-log.ts';
import { fullName, type BuildResult, type SimBuild } from './world-entities.ts';

export const PIPELINE_LOG_STYLE: LogStyle = {
  sectionStart: (_name, title) => `[Pipeline] stage\n[Pipeline] { (${title})\n`,
  sectionEnd: () => '[Pipeline] }\n[Pipeline] // stage\n',
  linePrefix: () => '',
};

/** A freestyle build has no Pipeline markers: each build step echoes its shell invocation. */
export const FREESTYLE_LOG_STYLE: LogStyle = {
  sectionStart: (name) => `[${name}] $ /bin/sh -xe /tmp/jenkins${name.length}${name.charCodeAt(0)}.sh\n`,
  sectionEnd: () => '',
  linePrefix: () => '',
};

/** stapler LargeText.MAX_LINES_READ: lines one progressiveText answer carries while the build runs. */
export const MAX_LINES_READ = 10_000;

/**
 * 'scripted': realistic content written over the build's planned duration (demo, tests of the
 * console); 'exact': an empty console only `append` writes (the logs contract's world).
 */
export type ConsoleMode = 'scripted' | 'exact';

export interface ProgressiveAnswer {
  readonly body: Buffer;
  /** X-Text-Size: the offset after the last byte served. */
  readonly textSize: number;
  /** X-More-Data: true while the build runs. */
  readonly moreData: boolean;
}

const OUTCOME: Record<BuildResult, LogOutcome> = {
  SUCCESS: 'success', UNSTABLE: 'success', FAILURE: 'failure', ABORTED: 'canceled', NOT_BUILT: 'canceled',
};

/** Finished consoles kept whole, in bytes: re-made (identically) from their seed once evicted. */
const FINISHED_CACHE_BYTES = 64 * 1024 * 1024;
/** Script length cap: a build that ran for hours still writes the content of one hour (about 7 MB). */
const MAX_SCRIPTED_MS = 60 * 60_000;

export class BuildConsoles {
  /** Consoles of running builds, one book each, seeded by the build (so a console is the same whenever it is made). */
  private readonly running = new Map<string, { readonly build: SimBuild; readonly book: SimLogBook }>();
  /** Whole consoles of finished builds (they never change), least recently read first. */
  private readonly finished = new Map<string, Buffer>();
  private finishedBytes = 0;
  private readonly requests = new Map<string, number>();

  constructor(private readonly mode: ConsoleMode, private readonly seed: number) {}

  /** The console as Jenkins has it at `nowMs`. */
  text(build: SimBuild, nowMs: number): Buffer {
    const key = keyOf(build);
    const done = this.finished.get(key);
    if (done) {
      // Most recently read goes last.
      this.finished.delete(key);
      this.finished.set(key, done);
      return done;
    }
    const { book } = this.running.get(key) ?? this.openConsole(build, key);
    if (build.building) return book.read(key, nowMs)!.bytes;
    book.finish(key, OUTCOME[build.result ?? 'NOT_BUILT'], build.timestamp + build.duration);
    const whole = Buffer.concat([book.read(key, nowMs)!.bytes, Buffer.from(trailer(build), 'utf8')]);
    this.running.delete(key);
    this.keepFinished(key, whole);
    return whole;
  }

  /**
   * LargeText.doProgressText: from `start` (0 when past the end: "text rolled over"), whole
   * lines only and at most MAX_LINES_READ of them while the build runs, everything once it ended.
   */
  progressive(build: SimBuild, start: number, nowMs: number): ProgressiveAnswer {
    const text = this.text(build, nowMs);
    const from = start > text.length ? 0 : start;
    const end = build.building ? wholeLinesEnd(text, from, MAX_LINES_READ) : text.length;
    return { body: text.subarray(from, end), textSize: end, moreData: build.building };
  }

  /** Exact text at the end of a running build's console (as its steps would print it). */
  append(build: SimBuild, text: string, nowMs: number): void {
    if (!build.building) throw new Error(`${keyOf(build)} has finished: its console is closed`);
    const key = keyOf(build);
    const { book } = this.running.get(key) ?? this.openConsole(build, key);
    book.append(key, text, nowMs);
  }

  /** progressiveText (and consoleText) requests that reached this build's console. */
  logRequests(build: SimBuild): number {
    return this.requests.get(keyOf(build)) ?? 0;
  }

  countRequest(build: SimBuild): void {
    this.requests.set(keyOf(build), this.logRequests(build) + 1);
  }

  private openConsole(build: SimBuild, key: string) {
    this.forgetRotated();
    const style = build.job.kind === 'pipeline' ? PIPELINE_LOG_STYLE : FREESTYLE_LOG_STYLE;
    const book = new SimLogBook(style, seedOf(this.seed, key));
    const entry = { build, book };
    this.running.set(key, entry);
    if (this.mode === 'exact') {
      book.startEmpty(key);
      return entry;
    }
    const planned = build.building ? plannedMs(build) : Math.max(build.duration, 1_000);
    book.start(key, { name: build.job.name, startedAtMs: build.timestamp, plannedDurationMs: Math.min(planned, MAX_SCRIPTED_MS) });
    // Before the first scripted line (due at the start): the cause and the workspace.
    book.append(key, header(build), build.timestamp - 1);
    return entry;
  }

  private keepFinished(key: string, whole: Buffer): void {
    this.finished.set(key, whole);
    this.finishedBytes += whole.length;
    // Exact consoles hold what a test wrote: they cannot be re-made, so they are never evicted.
    if (this.mode === 'exact') return;
    for (const [oldKey, old] of this.finished) {
      if (this.finishedBytes <= FINISHED_CACHE_BYTES || oldKey === key) break;
      this.finished.delete(oldKey);
      this.finishedBytes -= old.length;
    }
  }

  /** Log rotation dropped a running console's build (a pruned build is finished: its cache entry just ages out). */
  private forgetRotated(): void {
    for (const [key, { build }] of this.running) {
      if (!build.job.builds.includes(build)) this.running.delete(key);
    }
  }
}

/** A build's own seed: its console does not depend on which others were read first. */
function seedOf(seed: number, key: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function keyOf(build: SimBuild): string {
  return `${fullName(build.job)}#${build.number}`;
}

/** How long a running build's script is spread over: Jenkins' estimate, else a minute per two stages. */
function plannedMs(build: SimBuild): number {
  if (build.estimatedDuration > 0) return build.estimatedDuration;
  return Math.max(60_000, build.plan.length * 30_000);
}

/** The end of the last whole line in `text` after `from`, counting at most `maxLines` lines. */
export function wholeLinesEnd(text: Buffer, from: number, maxLines: number): number {
  let end = from;
  for (let lines = 0; lines < maxLines; lines++) {
    const newline = text.indexOf(0x0a, end);
    if (newline < 0) break;
    end = newline + 1;
  }
  return end;
}

function header(build: SimBuild): string {
  const cause = build.causes[0]?.shortDescription ?? 'Started';
  const node = build.computer.builtIn ? 'Jenkins' : build.computer.name;
  const pipeline = build.job.kind === 'pipeline';
  return [
    cause,
    ...(pipeline ? ['[Pipeline] Start of Pipeline', '[Pipeline] node'] : []),
    `Running on ${node} in /var/jenkins/workspace/${build.job.name}`,
    '',
  ].join('\n');
}

function trailer(build: SimBuild): string {
  const lines: string[] = [];
  if (build.interruption === 'timeout') lines.push('Timeout has been exceeded', 'Cancelling nested steps due to timeout', 'Sending interrupt signal to process');
  if (build.interruption === 'agent-lost') {
    lines.push(
      `Cannot contact ${build.computer.name}: java.lang.InterruptedException`,
      `ERROR: Issue with creating launcher for agent ${build.computer.name}. The agent is being disconnected`,
      `hudson.remoting.ChannelClosedException: Channel "hudson.remoting.Channel@${build.sha.slice(0, 8)}:${build.computer.name}": Remote call on ${build.computer.name} failed. The channel is closing down or has closed down`,
    );
  }
  if (build.job.kind === 'pipeline') lines.push('[Pipeline] }', '[Pipeline] // node', '[Pipeline] End of Pipeline');
  lines.push(`Finished: ${build.result ?? 'NOT_BUILT'}`);
  return `${lines.join('\n')}\n`;
}
