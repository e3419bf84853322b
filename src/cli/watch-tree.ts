import { duration, statusText, TERMINAL } from './format.ts';

/** The state `switchyard watch` keeps of one pipeline, and the two ways it shows it. */

export interface EstimateView { estimatedFinishAt: string | null; estimatedDuration: number | null }
export interface StepView { number: number; name: string; status: string; duration: number | null; startedAt: string | null }
export interface JobView {
  id: string; name: string; status: string; attempt: number; startedAt: string | null; finishedAt: string | null;
  duration: number | null; estimate: EstimateView | null; steps: StepView[];
}
export interface PipelineView {
  id: string; status: string; number: number | null; name: string | null; branch: string | null; commitSha: string | null;
  attempt: number; url: string | null; startedAt: string | null; finishedAt: string | null; duration: number | null;
  project: { fullName: string }; estimate: EstimateView | null;
}

export const ESTIMATE_FIELDS = 'estimate { estimatedFinishAt estimatedDuration }';
export const PIPELINE_FIELDS = `id status number name branch commitSha attempt url startedAt finishedAt duration project { fullName } ${ESTIMATE_FIELDS}`;
export const JOB_FIELDS = `id name status attempt startedAt finishedAt duration ${ESTIMATE_FIELDS} steps { number name status duration startedAt }`;

/**
 * An update does not take an entity back from a finished status to an unfinished one within the same
 * attempt: an event delivered before the snapshot it is older than must not undo it.
 */
function isStale(current: { status: string; attempt: number } | undefined, next: { status: string; attempt: number }): boolean {
  return current !== undefined && next.attempt === current.attempt && TERMINAL.has(current.status) && !TERMINAL.has(next.status);
}

export class PipelineTree {
  pipeline: PipelineView;
  readonly jobs = new Map<string, JobView>();
  /** Last status shown per entity (pipeline, job, job/step), for one line per transition. */
  private readonly shown = new Map<string, string>();

  constructor(pipeline: PipelineView) {
    this.pipeline = pipeline;
  }

  setPipeline(next: PipelineView): void {
    if (!isStale(this.pipeline, next)) this.pipeline = next;
  }

  setJob(next: JobView): void {
    if (!isStale(this.jobs.get(next.id), next)) this.jobs.set(next.id, next);
  }

  get finished(): boolean {
    return TERMINAL.has(this.pipeline.status);
  }

  private title(): string {
    const p = this.pipeline;
    const ref = [p.branch, p.commitSha?.slice(0, 7)].filter(Boolean).join(' @ ');
    return `${p.project.fullName}${p.number !== null ? ` #${p.number}` : ''}${p.name ? ` ${p.name}` : ''}${ref ? ` (${ref})` : ''}${p.attempt > 1 ? ` attempt ${p.attempt}` : ''}`;
  }

  /** Lines for what changed since the last call: one per pipeline, job and step transition. */
  transitions(): string[] {
    const lines: string[] = [];
    const note = (key: string, status: string, line: () => string) => {
      if (this.shown.get(key) === status) return;
      this.shown.set(key, status);
      lines.push(line());
    };
    const p = this.pipeline;
    const now = Date.now();
    const pipelineLine = () => note(`p:${p.id}`, p.status, () => `pipeline ${this.title()}: ${statusText(p.status)}${timing(p, now)}`);
    // Parents first while they run, last once finished: a job's SUCCESS follows its steps'.
    if (!TERMINAL.has(p.status)) pipelineLine();
    for (const job of this.sortedJobs()) {
      const jobLine = () => note(`j:${job.id}`, job.status, () => `job ${job.name}: ${statusText(job.status)}${timing(job, now)}`);
      if (!TERMINAL.has(job.status)) jobLine();
      for (const step of job.steps) {
        note(`s:${job.id}:${step.number}`, step.status, () => `step ${job.name} › ${step.name}: ${statusText(step.status)}${TERMINAL.has(step.status) && step.duration !== null ? ` ${duration(step.duration)}` : ''}`);
      }
      if (TERMINAL.has(job.status)) jobLine();
    }
    if (TERMINAL.has(p.status)) pipelineLine();
    return lines;
  }

  private sortedJobs(): JobView[] {
    return [...this.jobs.values()].sort((a, b) => (a.startedAt ?? '~').localeCompare(b.startedAt ?? '~') || a.name.localeCompare(b.name));
  }

  /** The whole tree, for a terminal: pipeline → jobs → steps, with durations and ETAs as of `now`. */
  render(now: number): string[] {
    const lines = [`${statusText(this.pipeline.status)}  ${this.title()}${live(this.pipeline, now)}`];
    const jobs = this.sortedJobs();
    jobs.forEach((job, i) => {
      const lastJob = i === jobs.length - 1;
      lines.push(`${lastJob ? '└─' : '├─'} ${statusText(job.status)}  ${job.name}${live(job, now)}`);
      job.steps.forEach((step, k) => {
        const branch = lastJob ? '   ' : '│  ';
        lines.push(`${branch}${k === job.steps.length - 1 ? '└─' : '├─'} ${statusText(step.status)}  ${step.name}${step.status === 'RUNNING' ? liveSeconds(step.startedAt, now) : step.duration !== null && TERMINAL.has(step.status) ? `  ${duration(step.duration)}` : ''}`);
      });
    });
    if (this.pipeline.url) lines.push(this.pipeline.url);
    return lines;
  }
}

/** For a transition line: the duration once finished, the ETA when it starts running. */
function timing(entity: { status: string; duration: number | null; estimate: EstimateView | null }, now: number): string {
  if (TERMINAL.has(entity.status)) return entity.duration !== null ? ` ${duration(entity.duration)}` : '';
  const finishAt = entity.estimate?.estimatedFinishAt;
  return finishAt ? ` ETA ${duration(Math.max(0, Date.parse(finishAt) - now) / 1000)}` : '';
}

function liveSeconds(startedAt: string | null, now: number): string {
  return startedAt ? `  ${duration((now - Date.parse(startedAt)) / 1000)}` : '';
}

/** Elapsed time and, while unfinished, the ETA from the history's estimate. */
function live(entity: { status: string; duration: number | null; startedAt: string | null; estimate: EstimateView | null }, now: number): string {
  if (TERMINAL.has(entity.status)) return entity.duration !== null ? `  ${duration(entity.duration)}` : '';
  const elapsed = entity.status === 'RUNNING' || entity.status === 'CANCELING' ? liveSeconds(entity.startedAt, now) : '';
  const finishAt = entity.estimate?.estimatedFinishAt;
  if (!finishAt) return elapsed;
  const left = (Date.parse(finishAt) - now) / 1000;
  return `${elapsed}  ${left > 0 ? `ETA ${duration(left)}` : 'over its usual time'}`;
}
