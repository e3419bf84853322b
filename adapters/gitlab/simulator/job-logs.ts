/**
 * The simulated job traces (`GET /projects/:id/jobs/:job_id/trace`), from sim-kit's SimLogBook in
 * GitLab's style: `section_start:<unix s>:<name>\r\e[0K<title>` / `section_end:<unix s>:<name>\r\e[0K`
 * lines, no line prefix. A build's log is made the first time it is asked for once the job has
 * started: the script is spread over a planned duration from the job's start and revealed as the
 * clock passes its lines, so it grows while the job runs; the footer is written once the job
 * finished. Made lazily, so seeded and past jobs have logs too and only logs someone reads use
 * memory. Tests take a job over with `startEmpty` and write exact text with `append`.
 */
import { SimLogBook, type LogOutcome, type LogStyle } from '../../../sim-kit/job-log.ts';
import type { SimJob } from './world-entities.ts';

const unixSeconds = (ms: number) => Math.floor(ms / 1000);

/** What gitlab-runner writes around a section (doc/ci/jobs/job_logs.md, custom collapsible sections). */
export const GITLAB_LOG_STYLE: LogStyle = {
  sectionStart: (name, title, atMs) => `section_start:${unixSeconds(atMs)}:${name}\r\u001b[0K${title}\n`,
  sectionEnd: (name, atMs) => `section_end:${unixSeconds(atMs)}:${name}\r\u001b[0K\n`,
  linePrefix: () => '',
};

/**
 * Content per planned second. SimLogBook aims at 90 bytes a line but its lines average about 64,
 * so 3,000 asked gives about 2.1 KB/s: a 20-35 minute end-to-end job writes 2.5-4.5 MB.
 */
const BYTES_PER_SECOND = 3_000;

/** Typical durations by job name. */
const PLANNED_MINUTES: readonly [RegExp, number, number][] = [
  [/e2e|integration|macos/, 20, 35],
  [/unit|test/, 5, 12],
  [/compile|build|package/, 2, 5],
  [/deploy/, 2, 6],
  [/lint/, 1, 2],
];

/** Minutes from `lo` to `hi`, picked from the job id so a job's plan never depends on request order. */
export function plannedDurationMs(job: Pick<SimJob, 'id' | 'name'>): number {
  const [, lo, hi] = PLANNED_MINUTES.find(([pattern]) => pattern.test(job.name)) ?? [/./, 3, 8];
  const spread = (job.id % 1000) / 999;
  return Math.round((lo + spread * (hi - lo)) * 60_000);
}

const OUTCOMES: Partial<Record<SimJob['status'], LogOutcome>> = { success: 'success', failed: 'failure', canceled: 'canceled' };

export class SimJobLogs {
  private readonly book: SimLogBook;
  private readonly requests = new Map<number, number>();
  /** Jobs whose log exists in the book (made or taken over by a test). */
  private readonly made = new Set<number>();

  constructor(seed: number) {
    this.book = new SimLogBook(GITLAB_LOG_STYLE, seed);
  }

  /** The trace GitLab serves for a build at `nowMs`: empty until it started (and after an erase). */
  trace(job: SimJob, nowMs: number): Buffer {
    this.requests.set(job.id, (this.requests.get(job.id) ?? 0) + 1);
    const key = String(job.id);
    if (!this.made.has(job.id)) {
      if (job.startedAt === null) return Buffer.alloc(0);
      this.made.add(job.id);
      this.book.start(key, this.planOf(job));
    }
    const outcome = OUTCOMES[job.status];
    if (outcome && job.finishedAt !== null) this.book.finish(key, outcome, Date.parse(job.finishedAt));
    return this.book.read(key, nowMs)?.bytes ?? Buffer.alloc(0);
  }

  /** A test takes the job's log over: nothing scripted, only what `append` writes, then the footer. */
  startEmpty(jobId: number): void {
    this.made.add(jobId);
    this.book.startEmpty(String(jobId));
  }

  append(jobId: number, text: string, nowMs: number): void {
    this.book.append(String(jobId), text, nowMs);
  }

  /** How many trace requests reached the simulator for the job (404s of unknown ids are not counted). */
  requestsFor(jobId: number): number {
    return this.requests.get(jobId) ?? 0;
  }

  /** Erases a job's trace (`POST /jobs/:id/erase`, or expiry): GitLab then serves an empty trace. */
  erase(jobId: number): void {
    this.book.erase(String(jobId));
  }

  /** Forgets logs of jobs that left the world (pruned pipelines), so demo memory stays bounded. */
  forgetExcept(alive: (jobId: number) => boolean): void {
    for (const id of this.made) {
      if (alive(id)) continue;
      this.made.delete(id);
      this.requests.delete(id);
      this.book.erase(String(id));
    }
  }

  /** Finished jobs spread the script over their real run time, at the size their planned duration gives. */
  private planOf(job: SimJob): { name: string; startedAtMs: number; plannedDurationMs: number; bytesPerSecond: number } {
    const startedAtMs = Date.parse(job.startedAt!);
    const planned = plannedDurationMs(job);
    const ran = job.finishedAt === null ? 0 : Date.parse(job.finishedAt) - startedAtMs;
    if (ran <= 0) return { name: job.name, startedAtMs, plannedDurationMs: planned, bytesPerSecond: BYTES_PER_SECOND };
    return { name: job.name, startedAtMs, plannedDurationMs: ran, bytesPerSecond: Math.round((BYTES_PER_SECOND * planned) / ran) };
  }
}
