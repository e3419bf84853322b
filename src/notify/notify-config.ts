import { z } from 'zod';
import { secretRefSchema } from '../adapter-contract.ts';
import { validateProjectPattern } from '../auth/scope.ts';
import { TRIGGER_KINDS, type TriggerKind } from './notification.ts';
import { SINK_TYPES } from './sink.ts';

/**
 * `notifications` (issue 16, NOTIFICATIONS.md): sinks, rules that send to them, exports that
 * send every transition, and the delivery policy of the outbox. Off until a sink is configured
 * (demo mode configures its own log sink and default rules).
 */

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');
const projectPattern = z.string().min(1).superRefine((p, ctx) => {
  const problem = validateProjectPattern(p);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});
/** A sink URL: plain (not a secret: a CDEvents broker, a signed webhook) or a secret reference (Slack and Teams URLs carry their token). */
const URL_EXPECTED = 'a URL, or { env: NAME } when it carries a token';
const sinkUrl = z.union([z.string().url(URL_EXPECTED), secretRefSchema], { errorMap: () => ({ message: URL_EXPECTED }) });

const sinkCommon = {
  name,
  /** Messages sent to this sink at once (others wait in the outbox). */
  concurrency: z.number().int().min(1).max(64).default(2),
  /** At most this many messages per minute (Slack allows about 60). */
  ratePerMinute: z.number().int().min(1).max(60_000).default(60),
  /** One attempt's timeout: a receiver that hangs is cut off and retried. */
  timeoutSeconds: z.number().min(0.1).max(120).default(10),
  /** Plain http:// to a host that is not loopback (refused otherwise: messages and signatures would cross the network in clear). */
  allowInsecureUrl: z.boolean().default(false),
  /** Callers may name this sink in `watchPipeline` (a personal watch). */
  watchable: z.boolean().default(false),
};

export const sinkConfigSchema = z.discriminatedUnion('type', [
  /** Slack incoming webhook (Block Kit), with @slack/webhook. */
  z.object({ type: z.literal('slack'), url: secretRefSchema, ...sinkCommon }).strict(),
  /** Microsoft Teams incoming webhook (Adaptive Card). */
  z.object({ type: z.literal('teams'), url: secretRefSchema, ...sinkCommon }).strict(),
  /** Any HTTPS endpoint, signed per Standard Webhooks (`whsec_...` secret, base64 after the prefix). */
  z.object({ type: z.literal('webhook'), url: sinkUrl, secret: secretRefSchema, ...sinkCommon }).strict(),
  /** CDEvents as CloudEvents over HTTP (binary: the event in the body, context in ce-* headers; structured: the whole CloudEvent as JSON). */
  z
    .object({
      type: z.literal('cdevents'),
      url: sinkUrl,
      mode: z.enum(['binary', 'structured']).default('binary'),
      /** The CDEvents/CloudEvents `source` (a URI reference) naming this gateway. */
      source: z.string().min(1).default('/switchyard'),
      ...sinkCommon,
      ratePerMinute: z.number().int().min(1).max(60_000).default(6000),
    })
    .strict(),
  /** Kept in memory and logged at info (demo mode's receiver page at /demo/notifications). */
  z.object({ type: z.literal('log'), keep: z.number().int().min(1).max(10_000).default(200), ...sinkCommon, ratePerMinute: z.number().int().min(1).max(60_000).default(6000) }).strict(),
]);
export type SinkConfig = z.output<typeof sinkConfigSchema>;
SINK_TYPES satisfies readonly SinkConfig['type'][];

/** Which pipelines, jobs and pools a rule looks at. Empty lists match everything. */
export const ruleMatchSchema = z
  .object({
    backends: z.array(name).default([]),
    /** Project patterns (auth scope syntax: `acme/*`, `team-a/**`), on the full name or native id. */
    projects: z.array(projectPattern).default([]),
    /** Branch names; `$default` is each project's default branch (the default); `*` every branch. */
    branches: z.array(z.string().min(1)).default(['$default']),
    /** Pipeline (workflow) names, `*` allowed inside a name. */
    pipelines: z.array(z.string().min(1)).default([]),
    /** Job names, `*` allowed inside a name (job-level triggers, and which failing jobs count). */
    jobs: z.array(z.string().min(1)).default([]),
    /** Runner labels a job (or pool) must ask for, all of them. */
    labels: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .default({});

/** What a rule may fire on: every trigger but `transition`, which belongs to exports. */
const RULE_TRIGGERS = TRIGGER_KINDS.filter((t): t is Exclude<TriggerKind, 'transition'> => t !== 'transition') as [Exclude<TriggerKind, 'transition'>, ...Exclude<TriggerKind, 'transition'>[]];

export const ruleConfigSchema = z
  .object({
    name,
    match: ruleMatchSchema,
    on: z.array(z.enum(RULE_TRIGGERS)).min(1),
    /** still-failing: at most one message per branch this often. */
    stillFailingEveryMinutes: z.number().positive().max(10_080).default(60),
    /** queued-longer-than: the wait bound. */
    queuedLongerThanSeconds: z.number().positive().max(604_800).default(900),
    /** running-longer-than: a fixed bound, or (`p95`) the historical p95 of the same job or pipeline on the same project and branch. */
    runningLongerThan: z.union([z.literal('p95'), z.number().positive().max(604_800)]).default('p95'),
    /** runner-pool-starved: jobs waiting above this, or the oldest waiting longer than `oldestWaitAboveSeconds`. */
    poolQueueAbove: z.number().int().min(0).default(10),
    poolOldestWaitAboveSeconds: z.number().positive().default(600),
    /** webhooks-silent: no webhook from a backend with webhooks configured for this long. */
    webhooksSilentSeconds: z.number().positive().default(1800),
    /** Flaky jobs (failed and passed on the same commit, from history): send anyway, mark them, or send nothing when every failing job is flaky. */
    flaky: z.enum(['notify', 'mark', 'suppress']).default('mark'),
    /** Sinks for every category. */
    sinks: z.array(name).default([]),
    /** Per-category sinks: infrastructure failures to the platform team, code failures to the authors' channel. Overrides `sinks` for that category. */
    route: z.object({ code: z.array(name).optional(), infrastructure: z.array(name).optional(), none: z.array(name).optional() }).strict().default({}),
  })
  .strict();
export type RuleConfig = z.output<typeof ruleConfigSchema>;

export const notificationsConfigSchema = z
  .object({
    sinks: z.array(sinkConfigSchema).default([]),
    rules: z.array(ruleConfigSchema).default([]),
    /** Exports without rules: every pipeline (and job) transition to a CDEvents sink. */
    exports: z
      .object({
        cdevents: z.object({ sink: name, jobs: z.boolean().default(true) }).strict().optional(),
      })
      .strict()
      .default({}),
    /** The outbox's delivery policy (src/notify/delivery). */
    delivery: z
      .object({
        /** Attempts before a message becomes a dead letter (re-drivable with `redriveNotifications`). */
        maxAttempts: z.number().int().min(1).max(100).default(12),
        initialBackoffSeconds: z.number().min(0.01).max(3600).default(1),
        maxBackoffSeconds: z.number().min(0.01).max(86_400).default(600),
        /** A claimed message not finished by its sender in this long is claimed again (the sender died). */
        claimSeconds: z.number().min(1).max(3600).default(60),
        /** Delivered and dead messages are deleted after this many days. */
        keepDays: z.number().int().min(1).max(365).default(14),
      })
      .strict()
      .default({}),
    /** Personal watches (`watchPipeline`): expire after this long if the pipeline never finishes. */
    watchTtlHours: z.number().positive().max(720).default(24),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sinks = new Set<string>();
    c.sinks.forEach((s, i) => {
      if (sinks.has(s.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sinks', i, 'name'], message: 'a name no other sink has' });
      sinks.add(s.name);
    });
    const known = (list: readonly string[], path: (string | number)[]) =>
      list.forEach((s, j) => {
        if (!sinks.has(s)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...path, j], message: `the name of a configured sink (${[...sinks].join(', ') || 'none configured'})` });
      });
    const rules = new Set<string>();
    c.rules.forEach((r, i) => {
      if (rules.has(r.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rules', i, 'name'], message: 'a name no other rule has' });
      rules.add(r.name);
      known(r.sinks, ['rules', i, 'sinks']);
      for (const category of ['code', 'infrastructure', 'none'] as const) known(r.route[category] ?? [], ['rules', i, 'route', category]);
      if (r.sinks.length === 0 && !r.route.code && !r.route.infrastructure && !r.route.none)
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rules', i, 'sinks'], message: 'at least one sink, in `sinks` or `route`' });
    });
    if (c.exports.cdevents) {
      known([c.exports.cdevents.sink], ['exports', 'cdevents', 'sink']);
      const sink = c.sinks.find((s) => s.name === c.exports.cdevents?.sink);
      if (sink && sink.type !== 'cdevents') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['exports', 'cdevents', 'sink'], message: `a sink of type cdevents ("${sink.name}" is a ${sink.type} sink)` });
    }
  })
  .default({});
export type NotificationsConfig = z.output<typeof notificationsConfigSchema>;
