/** The tails' view of a job: its newest version in the live state, and a wake-up at its next change event. */
import type { EventBus } from '../events/event-bus.ts';
import type { JobModel } from '../model.ts';
import type { LiveState } from '../state/live-state.ts';
import type { JobTracker } from './log-tail-service.ts';
import { WakeUp } from './wake-up.ts';

export function liveJobTracker(state: LiveState, bus: EventBus): JobTracker {
  return {
    current: (job) => state.get('Job', job.backend, job.nativeId) ?? job,
    async changed(job: JobModel, timeoutMs: number, signal: AbortSignal): Promise<void> {
      const events = bus.subscribe('Job', (e) => e.job.backend === job.backend && e.job.nativeId === job.nativeId);
      try {
        await Promise.race([events.next(), new WakeUp().wait(signal, timeoutMs)]);
      } finally {
        void events.return();
      }
    },
  };
}
