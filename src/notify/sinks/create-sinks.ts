import type { Logger } from 'pino';
import { createSecretResolver } from '../../config/secret.ts';
import { createCdeventsSink } from '../cdevents/cdevents-sink.ts';
import { ConfigError } from '../../errors.ts';
import type { SinkConfig } from '../notify-config.ts';
import type { NotificationSink, SinkType } from '../sink.ts';
import { createLogSink } from './log-sink.ts';
import { createSlackSink } from './slack-sink.ts';
import { createTeamsSink } from './teams-sink.ts';
import { resolveSinkUrl, SinkConfigProblem, type ResolveSecret } from './url-policy.ts';
import { createWebhookSink } from './webhook-sink.ts';

/** What a builder gets: its config, where it is in the config (`notifications.sinks[2]`), and how to resolve secrets and URLs. */
export interface SinkBuildContext {
  /** The config path of this sink, e.g. `notifications.sinks[2]`: errors name `${key}.url`. */
  readonly key: string;
  readonly resolveSecret: ResolveSecret;
  readonly log: Logger;
}

/** Builds one sink of one type; throws SinkConfigProblem (or ConfigError) naming the key at fault. */
export type SinkBuilder<T extends SinkType = SinkType> = (config: Extract<SinkConfig, { type: T }>, context: SinkBuildContext) => NotificationSink;

export type SinkBuilders = { readonly [T in SinkType]?: SinkBuilder<T> };

const BUILT_IN: SinkBuilders = {
  slack: (c, { key, resolveSecret }) =>
    createSlackSink({ name: c.name, timeoutSeconds: c.timeoutSeconds, url: resolveSinkUrl(c.url, `${key}.url`, { allowInsecureUrl: c.allowInsecureUrl, resolveSecret }) }),
  teams: (c, { key, resolveSecret }) =>
    createTeamsSink({ name: c.name, timeoutSeconds: c.timeoutSeconds, url: resolveSinkUrl(c.url, `${key}.url`, { allowInsecureUrl: c.allowInsecureUrl, resolveSecret }) }),
  webhook: (c, { key, resolveSecret }) => {
    const url = resolveSinkUrl(c.url, `${key}.url`, { allowInsecureUrl: c.allowInsecureUrl, resolveSecret });
    const secret = resolveSecret(c.secret);
    if (secret === undefined) {
      const where = 'env' in c.secret ? `the environment variable ${c.secret.env}` : 'a value';
      throw new SinkConfigProblem(`${key}.secret: expected ${where} to be set to the signing secret, received nothing`);
    }
    return createWebhookSink({ name: c.name, timeoutSeconds: c.timeoutSeconds, url, secret, secretKey: `${key}.secret` });
  },
  log: (c, { log }) => createLogSink({ name: c.name, keep: c.keep, log }),
};

/**
 * The configured sinks by name, built once at start (and on reload): secrets are resolved and
 * URLs checked here, so a missing variable or a plain-http URL stops the start with every problem
 * listed, one line per key, rather than failing on the first message.
 * `extraBuilders` adds or overrides builders (tests).
 */
export function createSinks(
  configs: readonly SinkConfig[],
  options: { readonly env: NodeJS.ProcessEnv; readonly log: Logger; readonly extraBuilders?: SinkBuilders; readonly source?: string },
): Map<string, NotificationSink> {
  // The CDEvents sink checks its own URL and source; its refusals join the others, one line each.
  const cdevents: SinkBuilder<'cdevents'> = (c, { key, log }) => {
    try {
      return createCdeventsSink(c, { env: options.env, log });
    } catch (error) {
      throw new SinkConfigProblem(`${key}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const builders: SinkBuilders = { ...BUILT_IN, cdevents, ...options.extraBuilders };
  const resolveSecret = createSecretResolver(options.env);
  const sinks = new Map<string, NotificationSink>();
  const problems: string[] = [];
  configs.forEach((config, i) => {
    const key = `notifications.sinks[${i}]`;
    const build = builders[config.type] as SinkBuilder | undefined;
    if (!build) {
      problems.push(`${key}.type: the sink type "${config.type}" is not available in this build (known: ${Object.keys(builders).join(', ')})`);
      return;
    }
    try {
      sinks.set(config.name, build(config, { key, resolveSecret, log: options.log }));
    } catch (error) {
      if (error instanceof SinkConfigProblem) problems.push(error.message);
      else if (error instanceof ConfigError) problems.push(...error.issues);
      else throw error;
    }
  });
  if (problems.length > 0) throw new ConfigError(problems, options.source ?? 'config');
  return sinks;
}
