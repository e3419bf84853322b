import type { VerifyResult } from '../adapter-contract.ts';

/**
 * Replay window for webhooks that sign their send time (Standard Webhooks
 * `webhook-timestamp`, GitLab's signing token, Buildkite `X-Buildkite-Signature:
 * timestamp=...`). A captured delivery replayed later than this fails even
 * with a valid signature; the delivery-id dedupe covers replays inside it.
 * ±5 min, as the Standard Webhooks reference verifier.
 */
export const REPLAY_WINDOW_MS = 5 * 60_000;

/**
 * Checks a signed send time given in Unix seconds (the header's text, or a
 * number) against `nowMs`, both ways: too old is a replay, too new a clock
 * trick. `label` names the header in the reason. Call it with the timestamp the signature covers, never an unsigned one.
 */
export function checkReplayWindow(
  timestamp: string | number | undefined,
  nowMs: number,
  options: { readonly windowMs?: number; readonly label?: string } = {},
): VerifyResult {
  const label = options.label ?? 'timestamp';
  const text = typeof timestamp === 'number' ? String(timestamp) : timestamp?.trim();
  if (!text) return { ok: false, reason: `missing ${label}` };
  if (!/^\d{1,12}$/.test(text)) return { ok: false, reason: `malformed ${label}` };
  if (Math.abs(nowMs - Number(text) * 1000) > (options.windowMs ?? REPLAY_WINDOW_MS)) return { ok: false, reason: `${label} outside the replay window` };
  return { ok: true };
}
