import type { NotificationSink, SendOutcome, SinkDelivery } from '../sink.ts';
import { attemptSignal, postJson } from './post-json.ts';
import { teamsMessage } from './teams-message.ts';
import type { SinkUrl } from './url-policy.ts';

/** Microsoft Teams incoming webhooks (or a Workflows "post to a channel" URL): one Adaptive Card per message. */
export function createTeamsSink(options: { readonly name: string; readonly url: SinkUrl; readonly timeoutSeconds: number }): NotificationSink {
  return {
    name: options.name,
    type: 'teams',
    describe: () => `teams ${options.url.display}`,
    send(delivery: SinkDelivery, signal: AbortSignal): Promise<SendOutcome> {
      return postJson(options.url.url, JSON.stringify(teamsMessage(delivery.notification)), {}, attemptSignal(signal, options.timeoutSeconds));
    },
  };
}
