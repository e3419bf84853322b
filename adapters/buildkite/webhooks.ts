import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { checkReplayWindow } from '../../src/adapter-kit/replay-window.ts';
import type { VerifyResult, WebhookHandler, WebhookRequest } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';
import { asRecord, loose, nonEmpty, str } from './fields.ts';
import { toJob, toPipeline, toRunner } from './normalize.ts';

/**
 * Buildkite webhooks (pipelines' Notification Services), POST /webhooks/<name>.
 *
 * Verification, by the webhook's Token setting (reference §3.3):
 * - signature mode (`webhookSecret`): `X-Buildkite-Signature:
 *   timestamp=<unix s>,signature=<hex>`, HMAC-SHA256(secret, "<timestamp>.<raw body>"),
 *   compared timing-safe, and the signed timestamp inside the replay window;
 * - token mode (`webhookToken`): `X-Buildkite-Token` compared timing-safe
 *   (no time is signed, so no replay window: the delivery id stops replays).
 *
 * Delivery id: Buildkite sends none (§6.12), so it is a hash of what the
 * delivery says: the event, the entity's id and state, and every timestamp
 * of it. A redelivery (same content, any send time) gets the same id; a new
 * state of the same build is news.
 */
export interface WebhookDeps {
  readonly backend: string;
  readonly secret?: string;
  readonly token?: string;
  readonly now: () => Date;
  /** Whether a pipeline slug is inside the backend's scope; deliveries for others publish nothing. */
  readonly inScope: (slug: string) => boolean;
}

/** Parses `timestamp=…,signature=…` (comma-separated `k=v` pairs, any order). */
export function parseSignatureHeader(header: string | undefined): { timestamp: string; signature: string } | null {
  if (!header) return null;
  const pairs = new Map<string, string>();
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at > 0) pairs.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const timestamp = pairs.get('timestamp');
  const signature = pairs.get('signature');
  return timestamp && signature ? { timestamp, signature } : null;
}

/** The header value Buildkite sends for `body` at `timestampSec`. */
export function signatureHeader(secret: string, timestampSec: number, body: Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestampSec}.`).update(body).digest('hex');
  return `timestamp=${timestampSec},signature=${mac}`;
}

/** Constant-time equality of two strings of any lengths (both hashed first, so lengths leak nothing). */
function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export function verifyDelivery(deps: WebhookDeps, request: WebhookRequest): VerifyResult {
  if (deps.secret !== undefined) {
    const parsed = parseSignatureHeader(request.headers['x-buildkite-signature']);
    if (!parsed) return { ok: false, reason: 'missing or malformed X-Buildkite-Signature' };
    if (!/^[0-9a-f]{64}$/i.test(parsed.signature)) return { ok: false, reason: 'malformed signature' };
    if (!/^\d{1,12}$/.test(parsed.timestamp)) return { ok: false, reason: 'malformed signature timestamp' };
    const expected = createHmac('sha256', deps.secret).update(`${parsed.timestamp}.`).update(request.rawBody).digest();
    if (!timingSafeEqual(expected, Buffer.from(parsed.signature, 'hex'))) return { ok: false, reason: 'signature mismatch' };
    // Only after the signature: the timestamp checked is the one the signature covers.
    return checkReplayWindow(parsed.timestamp, deps.now().getTime(), { label: 'signature timestamp' });
  }
  if (deps.token !== undefined) {
    const sent = request.headers['x-buildkite-token'];
    if (!sent) return { ok: false, reason: 'missing X-Buildkite-Token' };
    return safeEqual(sent, deps.token) ? { ok: true } : { ok: false, reason: 'token mismatch' };
  }
  return { ok: false, reason: 'no webhook secret configured' };
}

/** Every `*_at` field of an entity, in key order: what changes when its state does. */
function timestampsOf(entity: Readonly<Record<string, unknown>> | null): string {
  if (!entity) return '';
  return Object.keys(entity).filter((k) => k.endsWith('_at')).sort().map((k) => `${k}=${str(entity[k]) ?? ''}`).join(',');
}

export function deliveryIdOf(request: WebhookRequest): string {
  let body: Record<string, unknown> | null = null;
  try {
    body = asRecord(JSON.parse(request.rawBody.toString('utf8')));
  } catch {
    // not JSON: hash the bytes
  }
  const hash = createHash('sha256');
  if (!body) return `bk-${hash.update(request.rawBody).digest('hex').slice(0, 40)}`;
  const event = str(body.event) ?? request.headers['x-buildkite-event'] ?? '';
  const entity = asRecord(body.job) ?? asRecord(body.build) ?? asRecord(body.agent);
  const state = entity ? `${str(entity.state) ?? str(entity.connection_state) ?? ''}:${String(entity.blocked ?? '')}` : '';
  const key = entity ? [event, str(entity.id) ?? '', state, timestampsOf(entity)].join('|') : `${event}|${request.rawBody.toString('utf8')}`;
  return `bk-${hash.update(key).digest('hex').slice(0, 40)}`;
}

/**
 * Pure: entities of a verified payload. The payload state is trusted over the
 * event name (a webhook may carry a later version of the object, §3.2).
 * Build events carry no jobs; job events carry the job and its build, so both
 * are published (the build's revision then counts the job's times: an unblock
 * shows only there).
 */
export function normalizeDelivery(deps: WebhookDeps, payload: unknown): EntityModel[] {
  const body = loose(payload);
  const event = nonEmpty(body.event) ?? '';
  const build = asRecord(body.build);
  const job = asRecord(body.job);
  if (event.startsWith('agent.')) {
    return body.agent ? [toRunner(deps.backend, body.agent, deps.now().getTime())] : [];
  }
  if (!build || (!event.startsWith('build.') && !event.startsWith('job.'))) return [];
  const pipeline = body.pipeline;
  const pipelineModel = toPipeline(deps.backend, build, { pipeline, ...(job ? { someJobs: [job] } : {}) });
  if (!deps.inScope(pipelineModel.projectNativeId)) return [];
  if (!event.startsWith('job.') || !job) return [pipelineModel];
  // A wait step is not work anyone watches (hidden from job lists alike).
  if (job.type === 'waiter') return [pipelineModel];
  return [pipelineModel, toJob(deps.backend, job, build, { pipeline })];
}

export function createWebhookHandler(deps: WebhookDeps): WebhookHandler {
  return {
    verify: (request) => verifyDelivery(deps, request),
    deliveryId: (request) => deliveryIdOf(request),
    normalize: (_request, payload) => normalizeDelivery(deps, payload),
  };
}
