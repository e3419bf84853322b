/** The tails' view of a job: its newest version in the live state, a wake-up at its next change event, and a re-read upstream. */
import type { BackendRegistry } from '../backend-registry.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { JobModel } from '../model.ts';
import type { LiveState } from '../state/live-state.ts';
import type { JobTracker } from './log-tail-service.ts';
import { WakeUp } from './wake-up.ts';

export interface JobTrackerDeps {
  readonly state: LiveState;
  readonly bus: EventBus;
  readonly registry: BackendRegistry;
  readonly ingestor: Ingestor;
  /** Deadline of one upstream read (config backendTimeoutMs). */
  readonly timeoutMs: number;
}

export function liveJobTracker({ state, bus, registry, ingestor, timeoutMs }: JobTrackerDeps): JobTracker {
  return {
    current: (job) => state.get('Job', job.backend, job.nativeId) ?? job,
    async changed(job: JobModel, waitMs: number, signal: AbortSignal): Promise<boolean> {
      const events = bus.subscribe('Job', (e) => e.job.backend === job.backend && e.job.nativeId === job.nativeId);
      // Ends the timed wait as soon as the change comes, so no timer outlives the race.
      const done = new AbortController();
      try {
        return await Promise.race([events.next().then(() => true), new WakeUp().wait(AbortSignal.any([signal, done.signal]), waitMs).then(() => false)]);
      } finally {
        done.abort();
        void events.return();
      }
    },
    async refresh(job: JobModel, signal: AbortSignal): Promise<void> {
      const backend = registry.get(job.backend);
      if (!backend) return;
      const { adapter, policy } = backend;
      const [fresh] = await policy.executeBatch((s) => adapter.batch.jobs([job.nativeId], s), { deadlineMs: timeoutMs, what: 'reading the status of a tailed job', signal });
      if (fresh instanceof Error) throw fresh;
      // As a poll would: the change reaches jobUpdated subscribers, the history and the tail's `changed`.
      if (fresh && adapter.owns(fresh)) ingestor.ingest([fresh], { source: 'POLL', publishNew: true });
    },
  };
}
