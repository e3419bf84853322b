/**
 * Notification plugin (com.tikal.hudson.plugins.notification) style pushes:
 * one POST per phase, serialized by Gson with LOWER_CASE_WITH_UNDERSCORES
 * (so `full_url`, `queue_id`, `display_name`) and without null fields. No
 * signature and no delivery id; the response status is not checked and no
 * retry is made (the plugin's defaults). The secret travels as a header, a
 * `?token=` on the URL, or the URL's userinfo (sent as `Authorization: Basic`).
 */
import { postOnce, SerialQueue } from '../../../sim-kit/webhook-delivery.ts';
import { buildUrl, itemUrl, type Phase, type PhaseEvent } from './world-entities.ts';

export interface NotifyTarget {
  url: string;
  secretHeader?: { name: string; value: string };
  urlToken?: string;
}

export interface Push {
  readonly phase: Phase;
  /** Full job name (`team-a/service`) and build number the push is about. */
  readonly job: string;
  readonly number: number;
  /** URL posted to (with the token when `urlToken` is set). */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Receiver's HTTP status, or 'error' when it could not be reached. */
  readonly status: number | 'error';
}

/** BuildState.getTimestampStr: `yyyy-MM-dd'T'HH:mm:ss.Sz` in UTC with `UTC` → `+00:00` (millis unpadded). */
export function pluginTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${d.getUTCMilliseconds()}+00:00`;
}

/** The JobState body for one phase, built from the build as it is at the moment of the transition. */
export function jobState(root: string, ev: PhaseEvent): Record<string, unknown> {
  const b = ev.build;
  const job = b.job;
  const completed = ev.phase === 'COMPLETED' || ev.phase === 'FINALIZED';
  // GIT_URL/GIT_BRANCH/GIT_COMMIT exist in the run's environment only after the checkout.
  const scm: Record<string, unknown> = completed
    ? { url: job.scmUrl, branch: job.gitBranch, commit: b.sha, changes: [], culprits: [] }
    : { changes: [], culprits: [] };
  const build: Record<string, unknown> = {
    full_url: `${root}${buildUrl(b)}`,
    number: b.number,
    queue_id: b.queueId,
    phase: ev.phase,
    timestamp: pluginTimestamp(ev.at),
    duration: completed ? b.duration : 0,
  };
  if (completed && b.result !== null) build.status = b.result;
  build.url = buildUrl(b);
  build.display_name = `#${b.number}`;
  build.scm = scm;
  build.log = '';
  build.artifacts = {};
  return { name: job.name, display_name: job.displayName, url: itemUrl(job), build };
}

export class Notifier {
  readonly pushes: Push[] = [];
  private readonly queue = new SerialQueue();

  constructor(private target: NotifyTarget | null, private readonly timeoutMs = 30_000) {}

  setTarget(target: NotifyTarget | null): void {
    this.target = target;
  }

  /** Queues pushes for the events (bodies are built now, sent in order). */
  send(root: string, fullJobName: (ev: PhaseEvent) => string, events: readonly PhaseEvent[]): Promise<void> {
    const target = this.target;
    if (!target || events.length === 0) return Promise.resolve();
    const sends = events.map((ev) => {
      const body = JSON.stringify(jobState(root, ev));
      let url = target.url;
      if (target.urlToken !== undefined) {
        url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(target.urlToken)}`;
      }
      const headers: Record<string, string> = { 'Content-Type': 'application/json;charset=UTF-8' };
      // Like the plugin (Protocol.HTTP): URL userinfo, as written, becomes `Authorization: Basic`.
      const userInfo = /^(https?:\/\/)([^/@]*)@/.exec(url);
      if (userInfo) {
        headers.Authorization = `Basic ${Buffer.from(userInfo[2]!).toString('base64')}`;
        url = userInfo[1]! + url.slice(userInfo[0].length);
      }
      if (target.secretHeader) headers[target.secretHeader.name] = target.secretHeader.value;
      const meta = { phase: ev.phase, job: fullJobName(ev), number: ev.build.number, url, headers, body };
      return this.queue.run(async () => {
        const status = await postOnce(url, headers, body, this.timeoutMs);
        this.pushes.push({ ...meta, status });
      });
    });
    return Promise.all(sends).then(() => undefined);
  }

  drain(): Promise<void> {
    return this.queue.drain();
  }
}
