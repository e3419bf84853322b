import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VerifyResult, WebhookHandler, WebhookRequest } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';
import { asRecord, GithubPayloadError, str } from './fields.ts';
import { toJob, toPipeline } from './normalize.ts';
import type { JobPayload, RunPayload } from './upstream-types.ts';

/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body)>`.
 * Several secrets may be valid at once while a rotation is rolled out.
 *
 * normalize() handles `workflow_run` (→ Pipeline) and `workflow_job` (→ Job;
 * the job event does not carry enough of its run to build a Pipeline).
 * `ping` and every other event give []. A payload too broken to name an
 * entity also gives [] (the delivery is answered 2xx; retrying would not help),
 * as does a repository outside this backend's configured set.
 */
const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

export function signatureOf(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifySignature(secrets: readonly string[], request: WebhookRequest): VerifyResult {
  const header = request.headers['x-hub-signature-256'];
  if (header === undefined || header === '') return { ok: false, reason: 'missing X-Hub-Signature-256' };
  const m = SIGNATURE.exec(header.trim());
  if (!m) return { ok: false, reason: 'malformed X-Hub-Signature-256' };
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  let ok = false;
  // Check every secret (no early exit) so timing does not tell which one matched.
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(request.rawBody).digest();
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}

export function createWebhookHandler(opts: {
  readonly backend: string;
  readonly secrets: readonly string[];
  /** Whether a repository (`owner/repo`) belongs to this backend. */
  readonly covers: (projectId: string) => boolean;
}): WebhookHandler {
  return {
    verify: (request) => verifySignature(opts.secrets, request),
    deliveryId: (request) => request.headers['x-github-delivery'] || undefined,
    normalize: (request, payload) => normalizeEvent(opts.backend, request.headers['x-github-event'], payload, opts.covers),
  };
}

/** Pure: one delivery → entity snapshots. */
export function normalizeEvent(
  backend: string,
  event: string | undefined,
  payload: unknown,
  covers: (projectId: string) => boolean = () => true,
): readonly EntityModel[] {
  const body = asRecord(payload);
  if (!body) return [];
  const repoName = str(asRecord(body.repository)?.full_name);
  try {
    if (event === 'workflow_run') {
      const run = asRecord(body.workflow_run);
      if (!run) return [];
      const p = toPipeline(backend, run as unknown as RunPayload, repoName);
      return covers(p.projectNativeId) ? [p] : [];
    }
    if (event === 'workflow_job') {
      const job = asRecord(body.workflow_job);
      if (!job) return [];
      const j = toJob(backend, job as unknown as JobPayload, repoName);
      return covers(j.projectNativeId) ? [j] : [];
    }
  } catch (error) {
    if (error instanceof GithubPayloadError) return [];
    throw error;
  }
  return [];
}
