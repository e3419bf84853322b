import { Webhook } from 'standardwebhooks';
import type { NotificationSink, SendOutcome, SinkDelivery } from '../sink.ts';
import { attemptSignal, postJson } from './post-json.ts';
import type { SinkUrl } from './url-policy.ts';
import { SinkConfigProblem } from './url-policy.ts';
import { webhookPayload } from './webhook-payload.ts';

/**
 * Any HTTPS endpoint, signed per Standard Webhooks with its reference library: `webhook-id` is the
 * delivery id (the same on every retry, so the receiver can deduplicate), `webhook-timestamp` the
 * time of this attempt (receivers refuse old ones, replay protection), `webhook-signature`
 * `v1,<base64 HMAC-SHA256 of id.timestamp.body>`.
 */
export function createWebhookSink(options: { readonly name: string; readonly url: SinkUrl; readonly secret: string; readonly secretKey: string; readonly timeoutSeconds: number }): NotificationSink {
  const signer = signerFor(options.secret, options.secretKey);
  return {
    name: options.name,
    type: 'webhook',
    describe: () => `webhook ${options.url.display}`,
    send(delivery: SinkDelivery, signal: AbortSignal): Promise<SendOutcome> {
      const body = JSON.stringify(webhookPayload(delivery.notification));
      const now = new Date();
      const headers = {
        'webhook-id': delivery.deliveryId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(delivery.deliveryId, now, body),
      };
      return postJson(options.url.url, body, headers, attemptSignal(signal, options.timeoutSeconds));
    },
  };
}

const MIN_SECRET_BYTES = 24;

/**
 * The library accepts nearly any string and fails only when signing; check now, so a bad secret is a
 * config error at start. Standard Webhooks asks for 24 to 64 random bytes: a shorter key is refused.
 */
function signerFor(secret: string, key: string): Webhook {
  const bytes = Buffer.from(secret.replace(/^whsec_/, ''), 'base64').length;
  let signer: Webhook | undefined;
  try {
    signer = new Webhook(secret);
    signer.sign('msg_check', new Date(), '{}');
  } catch {
    signer = undefined;
  }
  if (!signer) throw new SinkConfigProblem(`${key}: expected a Standard Webhooks secret (whsec_ followed by base64), received a value that is not one`);
  if (bytes < MIN_SECRET_BYTES) throw new SinkConfigProblem(`${key}: expected at least ${MIN_SECRET_BYTES} random bytes (base64 after whsec_), received ${bytes}`);
  return signer;
}
