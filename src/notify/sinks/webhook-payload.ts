import type { Notification, TriggerKind } from '../notification.ts';

/**
 * The body of a signed webhook, per the Standard Webhooks payload structure
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure):
 * `type` says what happened (`switchyard.notification.failed`), `timestamp` when it happened
 * (`occurredAt`, not when it was sent), `data` the Notification unchanged. The same message gives
 * the same bytes on every retry. JSON Schema: docs/notification-webhook.schema.json.
 */
export interface NotificationWebhookPayload {
  readonly type: `switchyard.notification.${TriggerKind}`;
  readonly timestamp: string;
  readonly data: Notification;
}

export function webhookPayload(n: Notification): NotificationWebhookPayload {
  return { type: `switchyard.notification.${n.trigger}`, timestamp: n.occurredAt, data: n };
}
