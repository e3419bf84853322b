import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { checkReplayWindow } from '../../src/adapter-kit/replay-window.ts';
import type { VerifyResult, WebhookHandler, WebhookRequest } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';
import type { CommitTitles } from './commit-titles.ts';
import { asRecord, GitlabPayloadError, idString, str } from './fields.ts';
import { fromJobHook, fromPipelineHook } from './normalize.ts';

/**
 * GitLab webhooks (doc/user/project/integrations/webhooks.md, webhook_events.md):
 * - `X-Gitlab-Token`: the hook's secret token echoed verbatim. Compared in
 *   constant time and constant length (HMAC digests of both under a per-process key).
 * - optional signing token (`whsec_<base64>`, Standard Webhooks 1.0):
 *   `webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>`
 *   (space-separated list; any v1 entry may match), `webhook-timestamp` within
 *   ±5 min of now (the kit's replay window, `checkReplayWindow`).
 * - delivery id: with a signing token the signed `webhook-id` (equal to the
 *   Idempotency-Key); else `Idempotency-Key` (stable across GitLab's retries and
 *   manual resends), else `X-Gitlab-Event-UUID`, else `webhook-id`. Never
 *   `X-Gitlab-Webhook-UUID`, which is new on every attempt.
 *
 * normalize(): `Pipeline Hook` → the Pipeline and its builds[] as Jobs;
 * `Job Hook` → the Job. Other events, broken payloads and projects outside
 * this backend → [] (answered 202: GitLab disables a hook after 4 failures).
 */
const compareKey = randomBytes(32);
function digest(value: string | Buffer): Buffer {
  return createHmac('sha256', compareKey).update(value).digest();
}

/** Constant-time, constant-length string equality. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Standard Webhooks signing key from a `whsec_<base64>` secret (a bare secret is read as base64 too). */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

export function standardSignature(secret: string, id: string, timestamp: string | number, body: Buffer | string): string {
  const mac = createHmac('sha256', signingKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export function verifyStandardSignature(secret: string, request: WebhookRequest, nowMs: number): VerifyResult {
  const id = request.headers['webhook-id'];
  const ts = request.headers['webhook-timestamp'];
  const sig = request.headers['webhook-signature'];
  if (!id || !ts || !sig) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  const fresh = checkReplayWindow(ts, nowMs, { label: 'webhook-timestamp' });
  if (!fresh.ok) return fresh;
  const expected = Buffer.from(standardSignature(secret, id, ts.trim(), request.rawBody).slice(3), 'base64');
  let ok = false;
  for (const entry of sig.split(' ')) {
    const comma = entry.indexOf(',');
    const version = entry.slice(0, comma);
    const value = entry.slice(comma + 1);
    if (comma < 0 || version !== 'v1') continue;
    // Node's base64 decoder skips characters it does not know: accept only canonical base64.
    if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) continue;
    const given = Buffer.from(value, 'base64');
    // Check every entry (no early exit).
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok ? { ok: true } : { ok: false, reason: 'webhook-signature mismatch' };
}

export function verifyGitlabWebhook(
  opts: { readonly token?: string; readonly signingToken?: string; readonly now: () => Date },
  request: WebhookRequest,
): VerifyResult {
  if (opts.token !== undefined) {
    const given = request.headers['x-gitlab-token'];
    if (given === undefined || given === '') return { ok: false, reason: 'missing X-Gitlab-Token' };
    if (!safeEqual(given, opts.token)) return { ok: false, reason: 'X-Gitlab-Token mismatch' };
  }
  if (opts.signingToken !== undefined) return verifyStandardSignature(opts.signingToken, request, opts.now().getTime());
  return opts.token !== undefined ? { ok: true } : { ok: false, reason: 'no webhook credentials configured' };
}

/**
 * With a signing token every accepted delivery is signed, and only `webhook-id`
 * is covered by the signature (GitLab sets it to the Idempotency-Key): a replay
 * must not get a fresh id by changing an unsigned header.
 */
export function deliveryIdOf(request: WebhookRequest, signed = false): string | undefined {
  if (signed) return request.headers['webhook-id'] || undefined;
  return request.headers['idempotency-key'] || request.headers['x-gitlab-event-uuid'] || request.headers['webhook-id'] || undefined;
}

export function createWebhookHandler(opts: {
  readonly backend: string;
  readonly token?: string;
  readonly signingToken?: string;
  readonly now: () => Date;
  /** Learns commit titles from verified deliveries (for REST pipelines, which lack them). */
  readonly titles?: CommitTitles;
  /** Whether a project (numeric id, path when known) belongs to this backend. */
  readonly covers: (projectId: string, path: string | null) => boolean;
  /** Told about deliveries that name a project outside this backend. */
  readonly onForeignProject?: (info: { event: string | undefined; projectId: string | null; path: string | null }) => void;
}): WebhookHandler {
  return {
    verify: (request) => verifyGitlabWebhook(opts, request),
    deliveryId: (request) => deliveryIdOf(request, opts.signingToken !== undefined),
    normalize: (request, payload) => {
      const entities = normalizeEvent(opts.backend, request.headers['x-gitlab-event'], payload, opts.covers, opts.onForeignProject);
      // Only deliveries about our projects teach titles; normalizeEvent itself stays pure.
      if (entities.length > 0) opts.titles?.learnFromHook(payload);
      return entities;
    },
  };
}

/** The project a hook is about: id and path. */
function projectOf(body: Readonly<Record<string, unknown>>): { id: string | null; path: string | null } {
  const project = asRecord(body.project);
  return { id: idString(project?.id) ?? idString(body.project_id), path: str(project?.path_with_namespace) };
}

/** Pure apart from `onForeignProject`: one delivery → entity snapshots. */
export function normalizeEvent(
  backend: string,
  event: string | undefined,
  payload: unknown,
  covers: (projectId: string, path: string | null) => boolean = () => true,
  onForeignProject?: (info: { event: string | undefined; projectId: string | null; path: string | null }) => void,
): readonly EntityModel[] {
  const body = asRecord(payload);
  if (!body) return [];
  const kind = str(body.object_kind);
  const isPipeline = event === 'Pipeline Hook' || (event === undefined && kind === 'pipeline');
  const isJob = event === 'Job Hook' || (event === undefined && kind === 'build');
  if (!isPipeline && !isJob) return [];
  const project = projectOf(body);
  if (!project.id || !covers(project.id, project.path)) {
    onForeignProject?.({ event, projectId: project.id, path: project.path });
    return [];
  }
  try {
    if (isPipeline) {
      const { pipeline, jobs } = fromPipelineHook(backend, body);
      return [pipeline, ...jobs];
    }
    return [fromJobHook(backend, body)];
  } catch (error) {
    if (error instanceof GitlabPayloadError) return [];
    throw error;
  }
}
