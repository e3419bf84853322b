import type { NotifiedJob, TriggerKind } from '../notification.ts';

/** 4m 12s, 1h 3m, 12s: short, for people. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return sec > 0 ? `${m}m ${sec}s` : `${m}m`;
  return `${sec}s`;
}

const MAX_JOB_NAMES = 3;

function jobsPart(jobs: readonly Pick<NotifiedJob, 'name' | 'flaky'>[]): string {
  if (jobs.length === 0) return '';
  const names = jobs.slice(0, MAX_JOB_NAMES).map((j) => (j.flaky ? `${j.name} (flaky)` : j.name));
  const more = jobs.length > MAX_JOB_NAMES ? `, +${jobs.length - MAX_JOB_NAMES} more` : '';
  return ` (${jobs.length} job${jobs.length === 1 ? '' : 's'}: ${names.join(', ')}${more})`;
}

const VERB: Partial<Record<TriggerKind, string>> = {
  failed: 'failed', fixed: 'fixed', 'still-failing': 'still failing', canceled: 'canceled',
};

export interface PipelineSummaryInput {
  readonly trigger: TriggerKind;
  readonly project: string;
  readonly branch: string | null;
  readonly pipelineName: string;
  readonly status: string;
  readonly durationMs: number | null;
  readonly failingJobs: readonly Pick<NotifiedJob, 'name' | 'flaky'>[];
  readonly red: { readonly since: string; readonly pipelines: number } | null;
}

/** "acme/api main: CI failed (2 jobs: test, lint) after 4m 12s". */
export function pipelineSummary(input: PipelineSummaryInput): string {
  const where = `${input.project}${input.branch ? ` ${input.branch}` : ''}`;
  const verb = VERB[input.trigger] ?? `finished ${input.status.toLowerCase().replace(/_/g, ' ')}`;
  const after = input.durationMs !== null ? ` after ${formatDuration(input.durationMs)}` : '';
  const jobs = input.trigger === 'fixed' ? '' : jobsPart(input.failingJobs);
  const red =
    input.trigger === 'fixed' && input.red ? `, red for ${input.red.pipelines} pipeline${input.red.pipelines === 1 ? '' : 's'}`
    : input.trigger === 'still-failing' && input.red ? `, ${input.red.pipelines} red pipelines in a row` : '';
  return `${where}: ${input.pipelineName} ${verb}${jobs}${after}${red}`;
}
