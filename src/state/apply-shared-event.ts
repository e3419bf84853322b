import type { ChangeEvent } from '../events/event-types.ts';
import type { EntityModel } from '../model.ts';
import type { LiveState } from './live-state.ts';

export function entityOf(event: ChangeEvent): EntityModel {
  switch (event.type) {
    case 'Job':
      return event.job;
    case 'Pipeline':
      return event.pipeline;
    case 'Runner':
      return event.runner;
  }
}

/**
 * Applies an event read from the shared bus (published by this instance or
 * another) to this instance's live state, so its queries see what its
 * subscribers see. Revisions decide: an older event never replaces newer
 * state, and the instance's own events come back as `unchanged`. Nothing is
 * published: the event already is.
 */
export function applySharedEvent(state: LiveState, event: ChangeEvent, nowMs: number): void {
  const receivedAt = Date.parse(event.receivedAt);
  // Confirmed when the publishing instance received it, not when a backlog was read here.
  const seenAt = Number.isFinite(receivedAt) ? Math.min(nowMs, receivedAt) : nowMs;
  state.apply(entityOf(event), seenAt);
}
