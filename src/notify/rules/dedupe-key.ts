import type { TriggerKind } from '../notification.ts';

/**
 * The outbox keeps one row per (dedupeKey, sink): these keys name a message by what it is about,
 * never by when or where it was noticed, so a webhook and a poll, or two instances, build the
 * same key. `|` separates fields; native ids may hold anything, so they go last or are escaped.
 */
const part = (value: string) => value.replace(/[\\|#]/g, (c) => `\\${c}`);

/** A transition of one pipeline attempt (failed, fixed, still-failing, finished, canceled). */
export function pipelineKey(rule: string, trigger: TriggerKind, backend: string, pipelineNativeId: string, attempt: number): string {
  return `${part(rule)}|${trigger}|${part(backend)}|${part(pipelineNativeId)}#${attempt}`;
}

/**
 * A timer trigger's episode (a job queued too long, a pool starved, a backend down): the subject
 * plus when the episode began, so the next episode of the same subject is a new message.
 */
export function episodeKey(rule: string, trigger: TriggerKind, backend: string, subject: string, episodeStart: string): string {
  return `${part(rule)}|${trigger}|${part(backend)}|${part(subject)}|${part(episodeStart)}`;
}
