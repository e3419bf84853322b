import { IncomingWebhook, IncomingWebhookHTTPError, type FetchFunction } from '@slack/webhook';
import type { NotificationSink, SendOutcome, SinkDelivery } from '../sink.ts';
import { outcomeFromError, outcomeFromStatus } from './http-outcome.ts';
import { attemptSignal, ERROR_BODY_BYTES, readSome } from './post-json.ts';
import { slackMessage } from './slack-message.ts';
import type { SinkUrl } from './url-policy.ts';

/**
 * Slack incoming webhooks through Slack's own client (@slack/webhook). It throws on any non-2xx
 * and hides the response headers, so its fetch is ours: it carries the attempt's signal (the
 * client's own `timeout` could not be cancelled by the worker) and keeps Retry-After for a 429.
 * The client's retries stay off: the outbox retries, with backoff, across restarts.
 */
export function createSlackSink(options: { readonly name: string; readonly url: SinkUrl; readonly timeoutSeconds: number }): NotificationSink {
  return {
    name: options.name,
    type: 'slack',
    describe: () => `slack ${options.url.display}`,
    async send(delivery: SinkDelivery, signal: AbortSignal): Promise<SendOutcome> {
      const bounded = attemptSignal(signal, options.timeoutSeconds);
      let retryAfter: string | null = null;
      let status: number | null = null;
      const fetchWithSignal: FetchFunction = async (url, init) => {
        // redirect: 'manual' (the client asks for 'error'): a moved webhook is a 3xx, permanent, not a network error retried for hours.
        const response = await fetch(url, { ...init, redirect: 'manual', signal: init?.signal ? AbortSignal.any([init.signal, bounded]) : bounded });
        retryAfter = response.headers.get('retry-after');
        status = response.status;
        if (response.ok) return response;
        // The client reads a refusal's whole body; hand it the start only (a proxy may answer with megabytes).
        return new Response(await readSome(response, ERROR_BODY_BYTES), { status: response.status, statusText: response.statusText, headers: response.headers });
      };
      const webhook = new IncomingWebhook(options.url.url.href, { fetch: fetchWithSignal, retryConfig: { retries: 0 } });
      try {
        await webhook.send(slackMessage(delivery.notification));
        return { ok: true, status };
      } catch (error) {
        if (error instanceof IncomingWebhookHTTPError) return outcomeFromStatus(error.statusCode, retryAfter, error.body);
        // IncomingWebhookRequestError: no answer; the network error is its `original`.
        const original = (error as { original?: unknown }).original ?? error;
        return outcomeFromError(original, bounded);
      }
    },
  };
}
