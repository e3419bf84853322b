/**
 * Job logs the way Buildkite's agent writes them: `---`/`+++`/`~~~` section
 * headers, every line prefixed with the agent's `ESC _bk;t=<ms> BEL`
 * timestamp marker. Logs are built lazily from a job's times when first read
 * (so a seeded past of thousands of jobs costs nothing until asked), grow
 * while the job runs, and end with the outcome's footer.
 */
import { SimLogBook, type LogOutcome, type LogStyle } from '../../../sim-kit/job-log.ts';
import type { SimJob } from './world-entities.ts';

const ESC = '\u001b';
const BEL = '\u0007';
const stamp = (ms: number) => `${ESC}_bk;t=${ms}${BEL}`;

const STYLE: LogStyle = {
  sectionStart: (_name, title, atMs) => `${stamp(atMs)}--- ${title}\n`,
  sectionEnd: () => '',
  linePrefix: (atMs) => stamp(atMs),
};

/** Milliseconds a planned lifecycle step stands for (autoplay ticks about once a second). */
const MS_PER_STEP = 1_500;

export type LogMode = 'scripted' | 'exact';

export class JobLogs {
  private readonly book: SimLogBook;

  constructor(private readonly mode: LogMode, seed: number) {
    this.book = new SimLogBook(STYLE, seed);
  }

  /** The log as served at `nowMs`; null for a job that never started (or has no log: waiters, blocks). */
  read(job: SimJob, nowMs: number): Buffer | null {
    if (job.type !== 'script' || job.startedAt === null) return null;
    this.ensure(job);
    if (job.finishedAt !== null) this.book.finish(job.id, outcome(job), job.finishedAt);
    return this.book.read(job.id, nowMs)?.bytes ?? null;
  }

  /** Exact text, as the agent uploads a chunk (the job must have started). */
  append(job: SimJob, text: string, nowMs: number): void {
    if (job.startedAt === null) throw new Error(`job ${job.id} has not started`);
    this.ensure(job);
    this.book.append(job.id, text, nowMs);
  }

  private ensure(job: SimJob): void {
    if (this.mode === 'exact') {
      this.book.startEmpty(job.id);
      return;
    }
    const planned = job.finishedAt !== null ? job.finishedAt - job.startedAt! : (job.step.type === 'command' ? job.step.runSteps ?? 2 : 1) * MS_PER_STEP;
    this.book.start(job.id, { name: job.step.type === 'command' ? job.step.key : 'job', startedAtMs: job.startedAt!, plannedDurationMs: Math.max(1_000, planned), bytesPerSecond: 200 });
  }
}

function outcome(job: SimJob): LogOutcome {
  return job.state === 'passed' ? 'success' : job.state === 'canceled' ? 'canceled' : 'failure';
}

/** `header_times`: the timestamps of the section headers, as the JSON log endpoint lists them. */
export function headerTimes(text: string): number[] {
  const out: number[] = [];
  // Built from strings: the agent's markers are control characters, which regex literals may not hold here.
  const marker = new RegExp(`${ESC}_bk;t=(\\d+)${BEL}(?:---|\\+\\+\\+|~~~) `, 'g');
  for (const m of text.matchAll(marker)) out.push(Number(m[1]));
  return out;
}
