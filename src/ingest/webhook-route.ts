import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { WebhookRequest } from '../adapter-contract.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { WebhookAuditEntry } from '../audit/audit-record.ts';
import { clipForAudit, RejectionAuditor } from '../audit/rejection-summary.ts';
import type { BackendRegistry } from '../backend-registry.ts';
import type { WebhookObserver, WebhookRejection } from '../metrics/gateway-metrics.ts';
import type { GatewayTracing } from '../tracing/gateway-tracing.ts';
import { MemoryDeliveryDedupe, type DeliveryDedupe, type DeliveryKey } from './delivery-dedupe.ts';
import type { Ingestor } from './ingestor.ts';
import { BodyTooLargeError, readBody } from './read-body.ts';

export const WEBHOOK_PATH_PREFIX = '/webhooks/';

interface WebhookRouteOptions {
  readonly audit: AuditLog;
  readonly registry: BackendRegistry;
  readonly ingestor: Ingestor;
  readonly log: Logger;
  readonly bodyLimitBytes: number;
  readonly now: () => Date;
  /** Where delivery ids are remembered; default in-process for 72 hours. */
  readonly dedupe?: DeliveryDedupe;
  /** Rejected attempts after the first of a kind are counted and summarised this often (default 60 s). */
  readonly rejectionSummaryMs?: number;
  /** Where deliveries are counted (/metrics). */
  readonly metrics?: WebhookObserver | null;
  /** Where each delivery is traced, from receipt to publish (README "Traces"). */
  readonly tracing?: GatewayTracing | null;
}

export interface WebhookRoute {
  (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  /** Writes the pending rejection summaries; call before the audit log closes. */
  close(): void;
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The kinds of entity a delivery carried, e.g. `Pipeline,Job` (the adapter contract names no provider event). */
function entityTypes(entities: readonly { readonly type: string }[]): string {
  return [...new Set(entities.map((e) => e.type))].join(',');
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * POST /webhooks/<backend-name>: authenticate over the raw bytes, parse,
 * deduplicate by delivery id, normalize, ingest. Answers in milliseconds
 * (within the provider's `webhookTimeoutMs`) and never 5xx for a payload it merely does not use,
 * since GitLab disables hooks after repeated failures; but 503 for one whose
 * changes it could not publish (shared event store down), so it is redelivered
 * rather than lost.
 */
export function createWebhookRoute(options: WebhookRouteOptions): WebhookRoute {
  const dedupe = options.dedupe ?? new MemoryDeliveryDedupe({ doneTtlMs: 72 * 3600_000 }, 100_000, () => options.now().getTime());
  const rejections = new RejectionAuditor(options.audit, { intervalMs: options.rejectionSummaryMs ?? 60_000, now: options.now });
  /** Aborted at close: confirmations still reading upstream stop (their claims expire; the sender redelivers). */
  const stopping = new AbortController();
  const metrics = options.metrics;
  const tracing = options.tracing;
  /** One SERVER span per delivery (parented on a `traceparent` the sender may send); the handler runs inside it. */
  async function tracedWebhook(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!tracing) return handleWebhook(req, res, url);
    const parent = tracing.extract(req.headers);
    const span = tracing.tracer.startSpan('webhook', { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '' } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), () => handleWebhook(req, res, url, span));
    } finally {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  }
  async function handleWebhook(req: IncomingMessage, res: ServerResponse, url: URL, span?: Span): Promise<void> {
    const pathname = url.pathname;
    let name = pathname.slice(WEBHOOK_PATH_PREFIX.length);
    try {
      name = decodeURIComponent(name);
    } catch {
      // keep the raw name; it matches no backend
    }
    const backend = options.registry.get(name);
    // Labelled by configured backends only: a name from the URL is anyone's choice.
    const counted = backend ? name : '(unknown)';
    metrics?.received(counted);
    span?.updateName(`webhook ${counted}`).setAttribute('switchyard.backend', counted);
    const log = options.log.child({ webhook: clipForAudit(name) });
    /** Every accepted delivery leaves one audit record, never with its body or signature. */
    const audited = (entry: Omit<WebhookAuditEntry, 'kind' | 'backend'>) => (
      span?.setAttribute('switchyard.webhook.outcome', entry.effect),
      options.audit.append({ kind: 'webhook', backend: name, ...entry, deliveryId: entry.deliveryId === null ? null : clipForAudit(entry.deliveryId) }));
    /** Rejected attempts need no credentials: audited in bounded form (the first in full, then counts). */
    const reject = (status: number, body: Record<string, unknown>, reason: string, kind: WebhookRejection, verified = false) => {
      metrics?.rejected(counted, kind);
      span?.setAttributes({ 'switchyard.webhook.outcome': 'rejected', 'switchyard.webhook.rejection': kind });
      rejections.record({ backend: name, ...(backend ? {} : { groupAs: '(unknown)' }), reason, remoteAddress: req.socket.remoteAddress ?? null, verified });
      send(res, status, body);
    };
    if (!backend) return reject(404, { error: 'unknown backend', backend: clipForAudit(name) }, 'unknown backend', 'unknown_backend');
    const handler = backend.adapter.webhook;
    if (!handler) return reject(404, { error: 'webhooks are not configured for this backend', backend: name }, 'webhooks not configured', 'not_configured');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return reject(405, { error: 'method not allowed' }, 'method not allowed', 'method');
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      return reject(415, { error: 'expected content-type application/json' }, 'unsupported content type', 'content_type');
    }
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, options.bodyLimitBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        log.warn({ limit: error.limit }, 'webhook body too large');
        res.setHeader('connection', 'close');
        return reject(413, { error: `body larger than ${error.limit} bytes` }, 'body too large', 'body_too_large');
      }
      return reject(400, { error: 'could not read body' }, 'unreadable body', 'unreadable_body');
    }
    const request: WebhookRequest = { headers: lowerCaseHeaders(req), rawBody, query: Object.fromEntries(url.searchParams) };
    const verdict = handler.verify(request);
    if (!verdict.ok) {
      // Logged without the body: an unverified body is untrusted input.
      log.warn({ reason: verdict.reason, bytes: rawBody.length }, 'webhook rejected: verification failed');
      return reject(401, { error: 'signature verification failed' }, verdict.reason, 'signature');
    }
    metrics?.verified(name);
    let payload: unknown;
    try {
      payload = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return reject(400, { error: 'malformed JSON' }, 'malformed JSON', 'malformed_json', true);
    }
    backend.health.webhookReceived();
    const deliveryId = handler.deliveryId(request);
    if (deliveryId) span?.setAttribute('switchyard.webhook.delivery_id', clipForAudit(deliveryId));
    const dedupeKey: DeliveryKey | null = deliveryId ? { backend: name, deliveryId } : null;
    let claimToken = '';
    /** Not acknowledged, to be redelivered: nothing was lost, nothing is remembered as done. */
    const unavailable = (retryAfterSeconds: number, error: string, reason: string) => {
      metrics?.rejected(name, 'unavailable');
      res.setHeader('retry-after', String(retryAfterSeconds));
      audited({ deliveryId: deliveryId ?? null, verified: true, reason, effect: 'rejected', entities: 0 });
      send(res, 503, { error, ...(deliveryId ? { deliveryId } : {}) });
    };
    /** Best effort: a completion or release that fails only means a later retry is processed again, harmlessly. */
    const settle = (how: 'complete' | 'release') => {
      if (dedupeKey) void (how === 'complete' ? dedupe.complete(dedupeKey) : dedupe.release(dedupeKey, claimToken)).catch((error: Error) => log.warn({ err: error.message, deliveryId }, `webhook delivery could not be marked (${how})`));
    };
    if (dedupeKey) {
      let claim;
      try {
        claim = await dedupe.claim(dedupeKey, backend.factory.webhookTimeoutMs);
      } catch (error) {
        log.warn({ err: error instanceof Error ? error.message : String(error), deliveryId }, 'webhook dedupe store unavailable');
        return unavailable(5, 'temporarily unavailable; redeliver later', 'dedupe store unavailable');
      }
      if (claim.status === 'done') {
        log.debug({ deliveryId }, 'duplicate delivery ignored');
        metrics?.duplicate(name);
        audited({ deliveryId: deliveryId ?? null, verified: true, effect: 'duplicate', entities: 0 });
        return send(res, 200, { status: 'duplicate', deliveryId });
      }
      if (claim.status === 'in-progress') {
        // Another attempt holds it (or died holding it; the claim expires): acknowledging now could lose it.
        return unavailable(Math.max(1, Math.ceil(claim.retryAfterMs / 1000)), 'this delivery is being processed; redeliver later', 'delivery in progress');
      }
      claimToken = claim.token;
    }
    if (handler.confirm) {
      // A hint: answer now, publish only what the backend's API confirms.
      const confirm = handler.confirm;
      // The confirmation outlives the answer: its own span, a child of the delivery's, ends at publish.
      const confirming = span && tracing?.tracer.startSpan(`webhook confirm ${name}`, { attributes: { 'switchyard.backend': name } });
      const ended = (outcome: string) => confirming?.setAttribute('switchyard.webhook.outcome', outcome).end();
      const confirmed = () => confirm(request, payload, stopping.signal);
      void (confirming ? context.with(trace.setSpan(context.active(), confirming), confirmed) : confirmed())
        .then((confirmed) => (confirming?.setAttribute('switchyard.webhook.entity_types', entityTypes(confirmed)), options.ingestor.ingestStored(confirmed, { source: 'WEBHOOK', publishNew: true })))
        .then(
          (published) => (confirming?.setAttribute('switchyard.webhook.published', published), ended('published'), settle('complete')),
          (error: unknown) => {
            confirming?.setStatus({ code: SpanStatusCode.ERROR });
            ended('failed');
            if (stopping.signal.aborted) return log.debug({ deliveryId }, 'webhook hint not confirmed: shutting down');
            settle('release');
            log.warn({ err: error instanceof Error ? error.message : String(error), deliveryId }, 'webhook hint could not be confirmed and published');
          },
        );
      audited({ deliveryId: deliveryId ?? null, verified: true, effect: 'pending', entities: 0 });
      return send(res, 202, { status: 'accepted', deliveryId, confirmation: 'pending' });
    }
    let entities;
    try {
      entities = handler.normalize(request, payload);
    } catch (error) {
      settle('complete');
      log.warn({ err: error instanceof Error ? error.message : String(error), deliveryId }, 'webhook payload could not be normalized');
      audited({ deliveryId: deliveryId ?? null, verified: true, reason: 'unusable payload', effect: 'ignored', entities: 0 });
      return send(res, 202, { status: 'ignored', reason: 'unusable payload' });
    }
    if (entities.length === 0) {
      settle('complete');
      audited({ deliveryId: deliveryId ?? null, verified: true, effect: 'ignored', entities: 0 });
      return send(res, 202, { status: 'ignored', deliveryId });
    }
    span?.setAttributes({ 'switchyard.webhook.entities': entities.length, 'switchyard.webhook.entity_types': entityTypes(entities) });
    let published: number;
    try {
      // Acknowledged only once stored: with the Redis bus, an append Redis refused is answered 503 and redelivered.
      published = await options.ingestor.ingestStored(entities, { source: 'WEBHOOK', publishNew: true });
    } catch (error) {
      settle('release');
      log.warn({ err: error instanceof Error ? error.message : String(error), deliveryId }, 'webhook changes could not be published');
      return unavailable(5, 'the changes could not be published; redeliver later', 'publish failed');
    }
    settle('complete');
    span?.setAttribute('switchyard.webhook.published', published);
    audited({ deliveryId: deliveryId ?? null, verified: true, effect: published > 0 ? 'published' : 'ignored', entities: entities.length });
    return send(res, 202, { status: 'accepted', deliveryId, entities: entities.length, published });
  }
  return Object.assign(tracedWebhook, {
    close: () => {
      stopping.abort();
      rejections.close();
    },
  });
}
