import type { JobModel } from '../../model.ts';
import { discoverPools, livePools, type LivePool } from '../../pools/live-pools.ts';
import type { FailureCategory, Notification, NotifiedPool, TriggerKind } from '../notification.ts';
import type { RuleConfig } from '../notify-config.ts';
import { buildNotification, notifiedJob, notifiedPipeline, notifiedProject } from './build-notification.ts';
import { episodeKey } from './dedupe-key.ts';
import { matchesBackend, matchesJobName, matchesLabels, matchesPipeline } from './rule-match.ts';
import { p95DurationMs, type P95Key } from './running-bound.ts';
import { formatDuration } from './summary.ts';
import type { EngineDeps } from './engine-deps.ts';

const TIMER_TRIGGERS: ReadonlySet<TriggerKind> = new Set(['queued-longer-than', 'running-longer-than', 'runner-pool-starved', 'runner-pool-empty', 'backend-down', 'webhooks-silent']);
const P95_TTL_MS = 600_000;
const FULL_POOL_SCOPE = { allowsEntity: () => true, allowsRunners: () => true };

export interface TimerDeps extends EngineDeps {
  /** When this engine started: webhooks silent since then at the latest. */
  readonly startedAt: Date;
}

/** One condition that holds now: its subject, the start of its episode, and the message to send. */
interface Episode {
  readonly rule: RuleConfig;
  readonly trigger: TriggerKind;
  readonly backend: string;
  /** The subject, stable while the condition holds (a job, a pool, a backend). */
  readonly subject: string;
  readonly start: string;
  readonly build: (dedupeKey: string, detectedAt: string) => Notification;
}

/**
 * The triggers a timer finds by scanning the live state (every few seconds): jobs queued or
 * running too long, starved or empty pools, backends down or silent. Each fires once per
 * episode: remembered here until the condition clears, and named by its start in the dedupe
 * key so another instance (or a restart) sends the same message, which the outbox keeps once.
 */
export class TimerTriggers {
  /** rule|trigger|subject -> the episode start it fired for (cleared when the condition clears). */
  private readonly active = new Map<string, string>();
  private readonly p95 = new Map<string, { value: number | null; at: number }>();

  constructor(private readonly deps: TimerDeps) {}

  async scan(): Promise<number> {
    const rules = this.deps.config.rules.filter((r) => r.on.some((t) => TIMER_TRIGGERS.has(t)));
    if (rules.length === 0) return 0;
    const now = this.deps.now();
    const episodes: Episode[] = [];
    for (const rule of rules) {
      const on = new Set(rule.on);
      if (on.has('queued-longer-than') || on.has('running-longer-than')) episodes.push(...(await this.jobEpisodes(rule, on, now)));
      if (on.has('runner-pool-starved') || on.has('runner-pool-empty')) episodes.push(...this.poolEpisodes(rule, on, now));
      if (on.has('backend-down') || on.has('webhooks-silent')) episodes.push(...this.backendEpisodes(rule, on, now));
    }
    const holding = new Set<string>();
    let inserted = 0;
    for (const e of episodes) {
      const id = `${e.rule.name}\u0000${e.trigger}\u0000${e.backend}\u0000${e.subject}`;
      holding.add(id);
      if (this.active.has(id)) continue; // fired for this episode already
      this.active.set(id, e.start);
      const key = episodeKey(e.rule.name, e.trigger, e.backend, e.subject, e.start);
      const message = e.build(key, now.toISOString());
      const sinks = e.rule.route[message.category] ?? e.rule.sinks;
      if (sinks.length === 0) continue;
      try {
        inserted += await this.deps.enqueuer.enqueue(message, sinks);
      } catch (error) {
        this.active.delete(id); // not sent: the next scan tries again
        this.deps.log.warn({ rule: e.rule.name, trigger: e.trigger, err: error instanceof Error ? error.message : String(error) }, 'notification not queued');
      }
    }
    for (const id of this.active.keys()) if (!holding.has(id)) this.active.delete(id);
    return inserted;
  }

  private async jobEpisodes(rule: RuleConfig, on: ReadonlySet<TriggerKind>, now: Date): Promise<Episode[]> {
    const { state } = this.deps;
    const out: Episode[] = [];
    for (const job of state.all('Job')) {
      const queued = job.status === 'QUEUED' && on.has('queued-longer-than');
      const running = job.status === 'RUNNING' && on.has('running-longer-than') && job.startedAt !== null;
      if (!queued && !running) continue;
      if (!matchesBackend(rule, job.backend) || !matchesJobName(rule, job.name) || !matchesLabels(rule, job.labels)) continue;
      const pipeline = state.get('Pipeline', job.backend, job.pipelineNativeId) ?? null;
      const project = await this.deps.project(job.backend, job.projectNativeId);
      if (!matchesPipeline(rule, { backend: job.backend, project, branch: job.branch ?? pipeline?.branch ?? null, pipelineName: pipeline?.name ?? null })) continue;
      const since = queued ? job.queuedAt ?? job.createdAt : job.startedAt;
      if (!since) continue;
      const elapsedMs = now.getTime() - Date.parse(since);
      const boundMs = queued ? rule.queuedLongerThanSeconds * 1000 : await this.runningBoundMs(rule, job);
      if (boundMs === null || !(elapsedMs > boundMs)) continue;
      const trigger: TriggerKind = queued ? 'queued-longer-than' : 'running-longer-than';
      const name = project?.fullName ?? job.projectNativeId;
      const summary = queued
        ? `${name}${job.branch ? ` ${job.branch}` : ''}: job ${job.name} queued for ${formatDuration(elapsedMs)}${job.labels.length ? ` (waiting for ${job.labels.join(', ')})` : ''}`
        : `${name}${job.branch ? ` ${job.branch}` : ''}: job ${job.name} running for ${formatDuration(elapsedMs)} (bound ${formatDuration(boundMs)})`;
      out.push({
        rule, trigger, backend: job.backend, subject: `job:${job.nativeId}#${job.attempt}`, start: since,
        build: (dedupeKey, detectedAt) => buildNotification(
          { dedupeKey, trigger, rule: rule.name, category: 'none', occurredAt: new Date(Date.parse(since) + boundMs).toISOString(), detectedAt, backend: job.backend, provider: job.native.provider, summary },
          { project: notifiedProject(job.backend, project), pipeline: pipeline ? notifiedPipeline(pipeline, []) : null, job: notifiedJob(job, false), lifecycle: queued ? 'queued' : 'started' },
        ),
      });
    }
    return out;
  }

  /** A fixed bound, or the p95 of the job's history (none without enough runs: nothing fires). */
  private async runningBoundMs(rule: RuleConfig, job: JobModel): Promise<number | null> {
    if (rule.runningLongerThan !== 'p95') return rule.runningLongerThan * 1000;
    const key: P95Key = { kind: 'Job', backend: job.backend, project: job.projectNativeId, name: job.name, branch: job.branch };
    const id = JSON.stringify(key);
    const cached = this.p95.get(id);
    const now = this.deps.now().getTime();
    if (cached && now - cached.at < P95_TTL_MS) return cached.value;
    if (!this.deps.history.enabled) return null;
    let value: number | null = null;
    try {
      value = await this.deps.history.read((store) => p95DurationMs(store, key));
    } catch {
      return null; // history down: no bound this scan, asked again next
    }
    this.p95.set(id, { value, at: now });
    return value;
  }

  private poolEpisodes(rule: RuleConfig, on: ReadonlySet<TriggerKind>, now: Date): Episode[] {
    const { state, registry } = this.deps;
    const backends = registry.all().map((b) => b.name).filter((b) => matchesBackend(rule, b));
    const pools = discoverPools(state, backends, FULL_POOL_SCOPE).filter((p) => rule.match.labels.every((l) => p.labels.includes(l.trim().toLowerCase())));
    const figures = livePools(state, pools, { scope: FULL_POOL_SCOPE, now, onHostedRunner: (job) => registry.get(job.backend)?.adapter.runnerFromJob?.(job)?.hosted === true });
    const out: Episode[] = [];
    for (const pool of figures) {
      const oldestWaitSeconds = pool.queue.oldestQueuedAt ? Math.max(0, (now.getTime() - Date.parse(pool.queue.oldestQueuedAt)) / 1000) : null;
      const starved = pool.queue.depth > rule.poolQueueAbove || (oldestWaitSeconds !== null && oldestWaitSeconds > rule.poolOldestWaitAboveSeconds);
      const empty = !pool.hosted && pool.runners !== null && pool.runners.total > 0 && pool.runners.online === 0 && pool.queue.depth > 0;
      const start = this.active.get(`${rule.name}\u0000${'runner-pool-starved'}\u0000${pool.pool.backend}\u0000pool:${pool.key}`) ?? pool.queue.oldestQueuedAt ?? now.toISOString();
      if (starved && on.has('runner-pool-starved')) out.push(this.poolEpisode(rule, 'runner-pool-starved', pool, oldestWaitSeconds, start));
      const emptyStart = this.active.get(`${rule.name}\u0000${'runner-pool-empty'}\u0000${pool.pool.backend}\u0000pool:${pool.key}`) ?? pool.queue.oldestQueuedAt ?? now.toISOString();
      if (empty && on.has('runner-pool-empty')) out.push(this.poolEpisode(rule, 'runner-pool-empty', pool, oldestWaitSeconds, emptyStart));
    }
    return out;
  }

  private poolEpisode(rule: RuleConfig, trigger: TriggerKind, pool: LivePool, oldestWaitSeconds: number | null, start: string): Episode {
    const r = pool.runners;
    const notified: NotifiedPool = {
      labels: pool.pool.labels, online: r?.online ?? 0, busy: r?.busy ?? 0, idle: r?.idle ?? 0, offline: r?.offline ?? 0,
      queued: pool.queue.depth, oldestWaitSeconds,
    };
    const labels = pool.pool.labels.join(', ') || '(no labels)';
    const summary = trigger === 'runner-pool-empty'
      ? `${pool.pool.backend} pool [${labels}]: every runner offline, ${pool.queue.depth} job${pool.queue.depth === 1 ? '' : 's'} waiting`
      : `${pool.pool.backend} pool [${labels}]: ${pool.queue.depth} job${pool.queue.depth === 1 ? '' : 's'} queued${oldestWaitSeconds !== null ? `, oldest for ${formatDuration(oldestWaitSeconds * 1000)}` : ''}`;
    const provider = this.deps.registry.get(pool.pool.backend)?.adapter.provider ?? 'unknown';
    const category: FailureCategory = 'none';
    return {
      rule, trigger, backend: pool.pool.backend, subject: `pool:${pool.key}`, start,
      build: (dedupeKey, detectedAt) => buildNotification({ dedupeKey, trigger, rule: rule.name, category, occurredAt: detectedAt, detectedAt, backend: pool.pool.backend, provider, summary }, { pool: notified }),
    };
  }

  private backendEpisodes(rule: RuleConfig, on: ReadonlySet<TriggerKind>, now: Date): Episode[] {
    const out: Episode[] = [];
    for (const backend of this.deps.registry.all()) {
      if (!matchesBackend(rule, backend.name)) continue;
      const health = backend.health.current;
      const provider = backend.adapter.provider;
      if (on.has('backend-down') && health.state === 'DOWN') {
        // Down since the last success this instance saw: the same for every scan of this outage.
        const since = health.lastSuccessAt?.toISOString() ?? 'never';
        const summary = `${backend.name} is down${health.lastErrorMessage ? `: ${health.lastErrorMessage}` : ''}`;
        const backendHealth = { state: health.state, cause: health.lastErrorMessage, since: health.lastErrorAt?.toISOString() ?? null };
        out.push({
          rule, trigger: 'backend-down', backend: backend.name, subject: `backend:${backend.name}`, start: since,
          build: (dedupeKey, detectedAt) => buildNotification({ dedupeKey, trigger: 'backend-down', rule: rule.name, category: 'none', occurredAt: detectedAt, detectedAt, backend: backend.name, provider, summary }, { backendHealth }),
        });
      }
      if (on.has('webhooks-silent') && backend.adapter.webhook) {
        const last = health.lastWebhookAt ?? this.deps.startedAt;
        const silentMs = now.getTime() - last.getTime();
        if (silentMs > rule.webhooksSilentSeconds * 1000) {
          const since = last.toISOString();
          const summary = `${backend.name}: no webhook for ${formatDuration(silentMs)}${health.lastWebhookAt ? '' : ' (none since start)'}`;
          const backendHealth = { state: health.state, cause: 'no webhook received', since };
          out.push({
            rule, trigger: 'webhooks-silent', backend: backend.name, subject: `webhooks:${backend.name}`, start: since,
            build: (dedupeKey, detectedAt) => buildNotification({ dedupeKey, trigger: 'webhooks-silent', rule: rule.name, category: 'none', occurredAt: detectedAt, detectedAt, backend: backend.name, provider, summary }, { backendHealth }),
          });
        }
      }
    }
    return out;
  }
}
