import type { Notification, NotifiedJob, TriggerKind } from '../notification.ts';

/**
 * The pieces every human-facing sink (Slack, Teams, the demo page) shows, computed once so the
 * channels say the same thing. Status is always an emoji AND a word: colour alone (red/green)
 * is lost on colour-blind readers.
 */

const HEADLINES: Record<TriggerKind, { readonly emoji: string; readonly word: string }> = {
  failed: { emoji: '❌', word: 'Failed' },
  fixed: { emoji: '✅', word: 'Fixed' },
  'still-failing': { emoji: '🔁', word: 'Still failing' },
  finished: { emoji: '🏁', word: 'Finished' },
  canceled: { emoji: '⏹️', word: 'Canceled' },
  'queued-longer-than': { emoji: '⏳', word: 'Queued too long' },
  'running-longer-than': { emoji: '🐢', word: 'Running too long' },
  'runner-pool-starved': { emoji: '🚦', word: 'Runner pool starved' },
  'runner-pool-empty': { emoji: '🚫', word: 'Runner pool empty' },
  'backend-down': { emoji: '🔌', word: 'Backend down' },
  'webhooks-silent': { emoji: '🔕', word: 'Webhooks silent' },
  transition: { emoji: '🔄', word: 'Changed' },
};

/** A finished pipeline's own word when the trigger does not say (finished, transition). */
const STATUS_EMOJI: Partial<Record<string, string>> = {
  SUCCESS: '✅', FAILURE: '❌', UNSTABLE: '⚠️', TIMED_OUT: '⌛', ERROR: '💥', CANCELED: '⏹️', SKIPPED: '⏭️',
};

export interface Headline {
  readonly emoji: string;
  /** "Failed", or "Finished: SUCCESS" for a finish. */
  readonly word: string;
  /** "❌ Failed · acme/api main" */
  readonly text: string;
}

export function headline(n: Notification): Headline {
  const base = HEADLINES[n.trigger];
  const status = n.pipeline?.status;
  const fromStatus = (n.trigger === 'finished' || n.trigger === 'transition') && status ? STATUS_EMOJI[status] : undefined;
  const emoji = fromStatus ?? base.emoji;
  const word = fromStatus && status ? `${base.word}: ${status}` : base.word;
  const where = [projectName(n), n.pipeline?.branch].filter(Boolean).join(' ');
  return { emoji, word, text: `${emoji} ${word}${where ? ` · ${where}` : ''}` };
}

export function projectName(n: Notification): string | null {
  return n.project ? (n.project.fullName ?? n.project.nativeId) : null;
}

export function shortSha(sha: string | null | undefined): string | null {
  return sha ? sha.slice(0, 7) : null;
}

/** 252000 -> "4m 12s"; null stays null (still running, or unknown). */
export function formatDuration(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return null;
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** "unit-tests (FAILURE): exit code 1 — flaky" */
export function jobLine(job: NotifiedJob): string {
  const reason = job.reason ? `: ${job.reason}` : '';
  const flaky = job.flaky ? ' — flaky' : '';
  return `${job.name} (${job.status})${reason}${flaky}`;
}

/** The jobs a message lists: the failing ones of the pipeline, or the one job a job-level trigger is about. */
export function listedJobs(n: Notification): readonly NotifiedJob[] {
  if (n.pipeline && n.pipeline.failingJobs.length > 0) return n.pipeline.failingJobs;
  return n.job ? [n.job] : [];
}

/** Whether a button may open it: Slack refuses a whole message whose button URL is not http(s). */
function isWebUrl(url: string | null | undefined): url is string {
  if (!url) return false;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** The link a button opens: the pipeline, else the job, else the project; only web (http/https) URLs. */
export function primaryLink(n: Notification): { readonly label: string; readonly url: string } | null {
  if (isWebUrl(n.pipeline?.url)) return { label: 'Open pipeline', url: n.pipeline.url };
  if (isWebUrl(n.job?.url)) return { label: 'Open job', url: n.job.url };
  if (isWebUrl(n.project?.url)) return { label: 'Open project', url: n.project.url };
  return null;
}

/** Label/value pairs in display order; absent values are left out. */
export function facts(n: Notification): { readonly label: string; readonly value: string }[] {
  const p = n.pipeline;
  const pairs: [string, string | null | undefined][] = [
    ['Project', projectName(n)],
    ['Branch', p?.branch],
    ['Commit', shortSha(p?.commitSha)],
    ['Duration', formatDuration(p?.durationMs)],
    ['Actor', p?.actor],
    ['Category', n.category === 'none' ? null : n.category],
    ['Backend', n.backend],
  ];
  if (n.pool) pairs.push(['Runner pool', n.pool.labels.join(', ') || '(no labels)'], ['Queued', String(n.pool.queued)], ['Online', String(n.pool.online)]);
  if (n.backendHealth) pairs.push(['Backend state', n.backendHealth.cause ? `${n.backendHealth.state}: ${n.backendHealth.cause}` : n.backendHealth.state]);
  return pairs.filter((pair): pair is [string, string] => typeof pair[1] === 'string' && pair[1] !== '').map(([label, value]) => ({ label, value }));
}
