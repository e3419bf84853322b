import { CloudEvent, HTTP } from 'cloudevents';
import type { Logger } from 'pino';
import { createSecretResolver } from '../../config/secret.ts';
import type { SinkConfig } from '../notify-config.ts';
import type { NotificationSink, SendOutcome, SinkDelivery } from '../sink.ts';
import { toCdevent } from './cdevent-mapping.ts';
import { httpOutcome, networkOutcome } from './http-outcome.ts';
import { describeUrl, insecureUrlProblem } from './sink-url.ts';

export type CdeventsSinkConfig = Extract<SinkConfig, { type: 'cdevents' }>;

/** How much of a refusing receiver's body goes into the error (enough for "invalid event: ..."). */
const DETAIL_CHARS = 200;

/** `source` is a URI reference in both CDEvents and CloudEvents: refuse at start what receivers would refuse on every message. */
function sourceProblem(source: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(source)) return 'contains whitespace or control characters';
  try {
    new URL(source, 'http://base.invalid/');
    return null;
  } catch {
    return 'is not a URI reference';
  }
}

function resolveUrl(config: CdeventsSinkConfig, env: NodeJS.ProcessEnv): URL {
  const where = `notifications.sinks "${config.name}" (cdevents)`;
  const ref = config.url;
  const text = typeof ref === 'string' ? ref : createSecretResolver(env)(ref);
  if (text === undefined) throw new Error(`${where}: url: the environment variable ${typeof ref !== 'string' && 'env' in ref ? ref.env : ''} is not set (or empty)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The text may be a secret: say where it came from, not what it is.
    throw new Error(`${where}: url is not an absolute URL`);
  }
  if (url.username || url.password) throw new Error(`${where}: url carries credentials (user:password@), which fetch refuses: put the token in a secret url's path or query`);
  const problem = insecureUrlProblem(url, config.allowInsecureUrl);
  if (problem) throw new Error(`${where}: url: ${problem}`);
  const badSource = sourceProblem(config.source);
  if (badSource) throw new Error(`${where}: source "${config.source}" ${badSource}`);
  return url;
}

/** A short, single-line excerpt of a receiver's answer. */
async function detail(response: Response): Promise<string> {
  try {
    return (await response.text()).replace(/\s+/g, ' ').trim().slice(0, DETAIL_CHARS);
  } catch {
    return '';
  }
}

/**
 * A CDEvents sink: each message as a CloudEvent (spec 1.0, per the CDEvents CloudEvents binding:
 * id, source, type, subject and time from the CDEvent) POSTed in binary mode (the CDEvent is the
 * body, the context in ce-* headers) or structured mode (the whole CloudEvent as
 * application/cloudevents+json). Throws at build time on a bad URL or source, naming the sink.
 */
export function createCdeventsSink(config: CdeventsSinkConfig, deps: { readonly env: NodeJS.ProcessEnv; readonly log: Pick<Logger, 'debug'> }): NotificationSink {
  const url = resolveUrl(config, deps.env);
  const described = describeUrl(url);

  async function send(delivery: SinkDelivery, signal: AbortSignal): Promise<SendOutcome> {
    const cdevent = toCdevent(delivery, config.source);
    if ('unsupported' in cdevent) return { ok: false, kind: 'permanent', status: null, error: `not a CDEvents event: ${cdevent.unsupported}` };
    let message: { headers: Record<string, unknown>; body: unknown };
    try {
      const event = new CloudEvent({
        specversion: '1.0',
        id: cdevent.context.id,
        source: cdevent.context.source,
        type: cdevent.context.type,
        subject: cdevent.subject.id,
        time: cdevent.context.timestamp,
        datacontenttype: 'application/json',
        data: cdevent,
      });
      message = config.mode === 'structured' ? HTTP.structured(event) : HTTP.binary(event);
    } catch (error) {
      // The SDK validates the CloudEvent: a message it refuses now would be refused on every retry.
      return { ok: false, kind: 'permanent', status: null, error: `not a valid CloudEvent: ${error instanceof Error ? error.message : String(error)}` };
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers)) if (value !== undefined) headers[name] = String(value);
    try {
      const response = await fetch(url, { method: 'POST', headers, body: message.body as string, signal, redirect: 'manual' });
      const outcome = httpOutcome(response.status, response.headers.get('retry-after'), response.ok ? '' : await detail(response));
      if (response.ok) await response.body?.cancel();
      deps.log.debug({ sink: config.name, url: described, deliveryId: delivery.deliveryId, type: cdevent.context.type, status: response.status }, 'CDEvent sent');
      return outcome;
    } catch (error) {
      return networkOutcome(error, signal);
    }
  }

  return {
    name: config.name,
    type: 'cdevents',
    send: (delivery, signal) => send(delivery, signal).catch((error: unknown) => ({ ok: false, kind: 'retry', status: null, error: `unexpected: ${error instanceof Error ? error.message : String(error)}` })),
    describe: () => `cdevents ${config.mode} ${described}`,
  };
}
