import { createHash, timingSafeEqual } from 'node:crypto';
import type { VerifyResult, WebhookHandler, WebhookRequest } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';
import { asRecord, int, nonEmpty, str } from './fields.ts';
import { isFullName, refFromUrl } from './native-ids.ts';

/**
 * Notification plugin pushes (jenkinsci/notification-plugin; JSON format,
 * snake_case keys, null fields omitted):
 *   { name, display_name?, url: "job/a/job/b/", build: { full_url, number,
 *     queue_id, phase: QUEUED|STARTED|COMPLETED|FINALIZED, status?, url:
 *     "job/a/job/b/12/", scm{...}, ... } }
 *
 * The plugin signs nothing and sends no delivery id, so:
 * - `verify` requires the configured shared secret, as header
 *   `X-Switchyard-Token`, as the URL token `?token=`, or as the endpoint URL's
 *   userinfo (`https://jenkins:<secret>@gateway/webhooks/<name>`, which the
 *   plugin sends as `Authorization: Basic`; the endpoint URL is a Jenkins
 *   credential in the plugin, so it is not shown in job configs); compared in
 *   constant time over SHA-256 digests (no length leak);
 * - `deliveryId` = `<job full name>#<number>#<phase>` (the same push retried is
 *   the same delivery);
 * - `normalize` returns []: a push is only a hint;
 * - `confirm` reads the named build from the Jenkins API and returns what the
 *   API says. A push naming a build the API does not know (404), a job outside
 *   this backend's roots, or a build whose queue id differs from the push's
 *   publishes nothing.
 */
export const TOKEN_HEADER = 'x-switchyard-token';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The secret from an `Authorization: Basic` header: what the plugin sends for an
 * endpoint URL with userinfo (`https://user:secret@gateway/...` → Basic
 * base64("user:secret"), the userinfo as written, so still percent-encoded).
 * The password part, or the user part when there is no password (`https://secret@...`).
 */
export function basicAuthSecret(authorization: string | undefined): string | undefined {
  const m = authorization === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!m) return undefined;
  const userInfo = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = userInfo.indexOf(':');
  const secret = colon < 0 ? userInfo : userInfo.slice(colon + 1) || userInfo.slice(0, colon);
  try {
    return decodeURIComponent(secret);
  } catch {
    return secret;
  }
}

/** The first credential presented, in this order: header, URL token, Basic userinfo. */
export function verifyToken(secret: string, request: WebhookRequest): VerifyResult {
  const given = request.headers[TOKEN_HEADER] || request.query?.token || basicAuthSecret(request.headers.authorization);
  if (given === undefined || given === '') {
    return { ok: false, reason: 'missing shared secret (X-Switchyard-Token header, ?token= or https://user:secret@ userinfo)' };
  }
  return timingSafeEqual(digest(given), digest(secret)) ? { ok: true } : { ok: false, reason: 'shared secret mismatch' };
}

export interface PushTarget {
  readonly fullName: string;
  readonly number: number;
  readonly phase: string | null;
  readonly queueId: number | null;
}

/** Which build a push names: from `build.url`, `build.full_url`, or `url`/`name` + `build.number`. */
export function pushTarget(payload: unknown): PushTarget | null {
  const body = asRecord(payload);
  const build = asRecord(body?.build);
  if (!body || !build) return null;
  const number = int(build.number);
  const fromBuild = refFromUrl(build.url) ?? refFromUrl(build.full_url);
  let fullName = fromBuild?.fullName ?? refFromUrl(body.url)?.fullName ?? null;
  const n = fromBuild?.number ?? number;
  if (!fullName) {
    const name = nonEmpty(body.name);
    fullName = name && isFullName(name) ? name : null;
  }
  if (!fullName || n === null || n <= 0) return null;
  if (number !== null && fromBuild?.number != null && number !== fromBuild.number) return null;
  return { fullName, number: n, phase: str(build.phase), queueId: int(build.queue_id) ?? int(build.queueId) };
}

export interface ConfirmSource {
  covers(fullName: string): boolean;
  /** The build's current Pipeline and Jobs, read from the API; null on 404. */
  load(fullName: string, number: number): Promise<{ entities: readonly EntityModel[]; queueId: number | null } | null>;
}

export function createWebhookHandler(opts: { readonly secret: string; readonly source: ConfirmSource }): WebhookHandler {
  return {
    verify: (request) => verifyToken(opts.secret, request),
    deliveryId: (request) => {
      let payload: unknown;
      try {
        payload = JSON.parse(request.rawBody.toString('utf8'));
      } catch {
        return undefined;
      }
      const t = pushTarget(payload);
      return t ? `${t.fullName}#${t.number}#${t.phase ?? 'NONE'}` : undefined;
    },
    normalize: () => [],
    confirm: async (_request, payload) => {
      const t = pushTarget(payload);
      if (!t || !opts.source.covers(t.fullName)) return [];
      const loaded = await opts.source.load(t.fullName, t.number);
      if (!loaded) return [];
      // A queue id that disagrees means the push is about another build (forged or from another Jenkins).
      if (t.queueId !== null && loaded.queueId !== null && t.queueId !== loaded.queueId) return [];
      return loaded.entities;
    },
  };
}
