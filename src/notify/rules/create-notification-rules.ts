import type { ChangeEvent } from '../../events/event-types.ts';
import type { HistoryTask } from '../../history/history-service.ts';
import { isTerminal, type PipelineModel } from '../../model.ts';
import type { WatchApi } from '../notify-context.ts';
import { PipelineRules } from './pipeline-rules.ts';
import { projectInfoSource } from './project-info.ts';
import { matchesEverything } from './rule-match.ts';
import { TimerTriggers } from './timer-triggers.ts';
import { PipelineWatches } from './watches.ts';
import type { EngineDeps } from './engine-deps.ts';

/** The engine's dependencies (EngineDeps) but `project`, which the engine builds from the state and registry. */
export interface NotificationRulesOptions extends Omit<EngineDeps, 'project'> {
  /** How often the timer triggers scan the live state (default 5 s). */
  readonly scanMs?: number;
  /**
   * How long after a pipeline's finish its messages are built when some of its jobs are not
   * known finished yet (default 2 s): the jobs' own events, which may come just after the
   * pipeline's, then name the failing jobs. No wait when every known job has finished.
   */
  readonly settleMs?: number;
  /**
   * Resolves once the history is open (HistoryService.ready): finishes seen while an embedded
   * PGlite still compiles wait for it instead of failing, as the history's own rows do.
   */
  readonly historyReady?: () => Promise<void>;
}

export interface NotificationRules {
  readonly observer: { observe(event: ChangeEvent): void };
  readonly watches: WatchApi;
  /** Starts the timers with the history's store and stops them before it closes. */
  readonly task: HistoryTask;
  /** Resolves when every finish observed so far has been handled (tests, shutdown). */
  idle(): Promise<void>;
  /** One scan of the timer triggers now (tests). */
  scan(): Promise<number>;
}

const WATCH_EXPIRY_EVERY_SCANS = 12;

/**
 * The rule engine (issue 16, NOTIFICATIONS.md "Rules"): pipeline finishes from the ingestor's
 * accepted changes become failed/fixed/still-failing/finished/canceled messages; a timer finds
 * the episode triggers; watches send one `finished`. Everything goes to the outbox, which keeps
 * one row per (dedupeKey, sink).
 */
export function createNotificationRules(options: NotificationRulesOptions): NotificationRules {
  const { config, log, now } = options;
  const scanMs = options.scanMs ?? 5000;
  const settleMs = options.settleMs ?? 2000;
  for (const rule of config.rules) {
    if (matchesEverything(rule)) log.warn({ rule: rule.name }, 'notification rule matches every backend, project, branch and pipeline');
  }
  const project = projectInfoSource(options.state, options.registry);
  const deps = { ...options, project };
  const rules = new PipelineRules(deps);
  const watches = new PipelineWatches(deps);
  const timers = new TimerTriggers({ ...deps, startedAt: now() });

  let pending: Promise<void> = Promise.resolve();
  const handle = async (pipeline: PipelineModel, detectedAt: string) => {
    // A history that fails to open is reported by the history itself; each finish then fails below, logged.
    await options.historyReady?.().catch(() => undefined);
    try {
      await rules.finished(pipeline, detectedAt);
    } catch (error) {
      log.warn({ backend: pipeline.backend, pipeline: pipeline.nativeId, err: error instanceof Error ? error.message : String(error) }, 'notification rules: finish not handled');
    }
    try {
      await watches.finished(pipeline, detectedAt);
    } catch (error) {
      log.warn({ backend: pipeline.backend, pipeline: pipeline.nativeId, err: error instanceof Error ? error.message : String(error) }, 'notification watches: finish not handled');
    }
  };
  // No wait when every job the gateway knows of the pipeline has already finished (GitHub sends
  // each workflow_job before its workflow_run): the message can name the failing jobs now.
  const jobsFinished = (pipeline: PipelineModel) => {
    const jobs = options.state.knownPipelineJobs(pipeline.backend, pipeline.nativeId);
    return jobs.length > 0 && jobs.every((job) => isTerminal(job.status));
  };
  const settle = (pipeline: PipelineModel) =>
    settleMs > 0 && !jobsFinished(pipeline) ? new Promise<void>((resolve) => setTimeout(resolve, settleMs).unref()) : Promise.resolve();

  const observer = {
    observe(event: ChangeEvent): void {
      if (event.type !== 'Pipeline' || !isTerminal(event.pipeline.status)) return;
      // A terminal pipeline seen again unchanged (a poll after the webhook) is no news here; the outbox dedupes the rest.
      if (event.previousStatus === event.pipeline.status) return;
      const pipeline = event.pipeline;
      const detectedAt = now().toISOString();
      // The settling starts now (finishes in a burst wait together, not one after the other);
      // then one finish at a time, in arrival order: a branch's finishes are stepped in the order seen.
      const settled = settle(pipeline);
      pending = pending.then(() => settled).then(() => handle(pipeline, detectedAt));
    },
  };

  let timer: NodeJS.Timeout | null = null;
  let scanning: Promise<unknown> = Promise.resolve();
  let scans = 0;
  const scanOnce = async (): Promise<number> => {
    const sent = await timers.scan();
    if (++scans % WATCH_EXPIRY_EVERY_SCANS === 0) await watches.expire();
    return sent;
  };
  const task: HistoryTask = {
    start() {
      // Also without timer triggers: expired watches are deleted on the same beat.
      if (timer) return;
      timer = setInterval(() => {
        scanning = scanning.then(scanOnce).catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'notification timers: scan failed'));
      }, scanMs);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = null;
      await scanning.catch(() => {});
      await pending;
    },
  };
  return { observer, watches, task, idle: () => pending, scan: () => timers.scan() };
}
