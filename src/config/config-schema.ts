import { z } from 'zod';
import { secretRefSchema } from '../adapter-contract.ts';
import { authConfigSchema } from '../auth/auth-config.ts';
import { logsConfigSchema } from '../logs/log-config.ts';
import { metricsConfigSchema } from '../metrics/metrics-config.ts';
import { notificationsConfigSchema } from '../notify/notify-config.ts';
import { tracingConfigSchema } from '../tracing/tracing-config.ts';

/** Whether `value` is a serialized origin, as browsers send it in the Origin header. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

/** Top-level config. Each backend entry is further validated by its adapter's own schema. */
export const gatewayConfigSchema = z
  .object({
    server: z
      .object({
        port: z.number().int().min(0).max(65535).default(4000),
        host: z.string().default('0.0.0.0'),
        /** Largest accepted HTTP body (GraphQL and webhooks), in bytes. */
        bodyLimitBytes: z.number().int().min(1024).max(26_214_400).default(1_048_576),
        graphiql: z.boolean().default(true),
        /** WebSocket keep-alive: every socket is pinged this often, and terminated if the previous ping went unanswered. */
        keepAliveSeconds: z.number().min(0.05).max(300).default(12),
        /**
         * Identical SSE subscriptions share one execution and serialization (and a group with
         * identical WebSocket ones); false runs each on its own, as before (A/B benches, diagnosis).
         */
        sseMultiplexing: z.boolean().default(true),
        /** Open connections (HTTP, SSE, WebSocket) at once; more are closed on accept. Lowered at start to fit the file-descriptor limit. */
        maxConnections: z.number().int().min(1).max(1_000_000).default(20_000),
        /** Request bodies (GraphQL POSTs, webhooks) being read at once; more get 503 with Retry-After. */
        maxConcurrentBodies: z.number().int().min(1).max(100_000).default(64),
        /**
         * HTTP keep-alive: an idle connection is closed after this long. Longer than the
         * idle timeout of proxies and clients in front (60 s on common load balancers), so
         * the gateway never closes a connection a peer is about to reuse (a reset request).
         */
        idleTimeoutSeconds: z.number().min(1).max(3600).default(65),
        /** Cross-origin browser access: allowed origins (exact, e.g. https://ci.example.com); none by default. Also checked on WebSocket upgrades. */
        cors: z
          .object({
            origins: z.array(z.string().refine(isOrigin, 'an origin: scheme://host[:port], no path or trailing slash')).default([]),
            maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
          })
          .strict()
          .default({}),
        /** Opt-in reasons for /readyz to answer 503: every backend DOWN, or the history not usable. */
        readiness: z
          .object({
            requireBackend: z.boolean().default(false),
            requireHistory: z.boolean().default(false),
          })
          .strict()
          .default({}),
        /** Load shedding: past this event-loop lag new subscriptions are refused (OVERLOADED / 503) and /readyz says so. */
        shedding: z
          .object({
            eventLoopLagMs: z.number().int().min(10).max(60_000).default(200),
            retryAfterSeconds: z.number().int().min(1).max(3600).default(5),
            /** The lag must stay over the bound this long (a connection burst is not overload). */
            sustainedMs: z.number().int().min(0).max(60_000).default(1000),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    /** How long webhook/poll-delivered state and list results are served without an upstream call. */
    freshnessSeconds: z.number().min(0).max(3600).default(15),
    /** Entities the live state holds before it evicts the least recently updated (about 1.5 KB of RSS each). */
    liveStateMaxEntries: z.number().int().min(1000).max(10_000_000).default(200_000),
    /** Deadline for one backend's part of a query; past it the backend is reported as timed out. */
    backendTimeoutMs: z.number().int().min(100).max(120_000).default(8000),
    /** Events a subscriber may have unread (WebSocket: sent and not yet read by the client; otherwise queued) before it is told it is too slow. */
    subscriptionQueueLimit: z.number().int().min(16).max(100_000).default(256),
    /** Bytes a WebSocket client may have unread (sent, kernel buffers included) before its subscriptions are told they are too slow. */
    subscriptionQueueBytes: z.number().int().min(65_536).max(268_435_456).default(1_048_576),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto`: readable lines on a terminal, JSON otherwise; `json` or `pretty` to force either. */
    logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
    /** A one-line state summary at info level this often (0: never). */
    logSummaryMinutes: z.number().min(0).max(1440).default(15),
    /** Operation limits, the same over HTTP, SSE and WebSocket. */
    limits: z
      .object({
        maxDepth: z.number().int().min(1).max(100).default(12),
        maxAliases: z.number().int().min(0).max(1000).default(15),
        maxCost: z.number().int().min(1).default(10_000),
        maxTokens: z.number().int().min(10).default(1000),
        maxDirectives: z.number().int().min(0).default(50),
        /** Largest accepted GraphQL document, in characters. */
        maxDocumentLength: z.number().int().min(100).default(15_000),
        maxConnectionsPerIdentity: z.number().int().min(1).default(50),
        maxSubscriptionsPerConnection: z.number().int().min(1).default(100),
        /** Upstream reads one identity may cause per minute (ids sent to adapters + uncached list calls); beyond it UPSTREAM_BUDGET_EXCEEDED. */
        upstreamCallsPerIdentityPerMinute: z.number().int().min(1).default(300),
        introspection: z.boolean().default(true),
        /** Trusted documents: a JSON file of sha256 → document; when set, only these operations run (HTTP and WebSocket). */
        persistedOperationsFile: z.string().min(1).optional(),
        /** Masked errors hide internal messages (always on unless NODE_ENV=development). */
        csrfPrevention: z.boolean().default(true),
      })
      .strict()
      .default({}),
    rateLimit: z
      .object({
        /** Where rate-limit counters live: per process, or shared by all instances. */
        store: z.enum(['memory', 'redis']).default('memory'),
        redisUrl: z.string().default('redis://127.0.0.1:6379'),
        /** Namespace of the counters in Redis (instances that share limits share it). */
        redisKeyPrefix: z.string().min(1).default('switchyard:ratelimit:'),
        /** Overrides of the schema's @rateLimit directives, e.g. { "Query.pipelines": { max: 10, window: "1m" } }. */
        fields: z.record(z.string().regex(/^[A-Z][A-Za-z]*\.[a-z][A-Za-z]*$/, 'Type.field'), z.object({ max: z.number().int().min(1), window: z.string().regex(/^\d+\s*(ms|s|m|h)$/, 'a duration like 30s, 1m, 1h') }).strict()).default({}),
      })
      .strict()
      .default({}),
    /**
     * Where subscription events go and how much history is kept for resuming (`after: <cursor>`):
     * per process (`memory`, the default), or Redis Streams shared by all instances, so a webhook
     * received by one instance reaches the subscribers of every instance.
     */
    events: z
      .object({
        store: z.enum(['memory', 'redis']).default('memory'),
        redisUrl: z.string().default('redis://127.0.0.1:6379'),
        /** Namespace of the streams in Redis (instances that share events share it). */
        streamPrefix: z.string().min(1).default('switchyard:events:'),
        /** Retained events per event type (Job, Pipeline, Runner). */
        historyMaxEvents: z.number().int().min(1).max(10_000_000).default(10_000),
        /** Retained events are at most this old. */
        historyMaxAgeSeconds: z.number().int().min(1).max(30 * 86_400).default(3600),
      })
      .strict()
      .default({}),
    /** Append-only, hash-chained JSON-lines audit trail (`switchyard audit verify <file>`); null turns it off. */
    audit: z
      .object({
        file: z.string().min(1).nullable().default('switchyard-audit.jsonl'),
        fsync: z.boolean().default(false),
        /** Rejected webhook attempts: the first per backend + reason + address in full, then one count per this interval. */
        rejectionSummarySeconds: z.number().min(1).max(86_400).default(60),
        /**
         * Audit key, e.g. `{ env: SWITCHYARD_AUDIT_KEY }` (at least 32 characters): record hashes and the
         * head checkpoint become HMAC-SHA256, so rebuilding the chain or rewriting the head needs the key.
         */
        hmacKey: secretRefSchema.optional(),
      })
      .strict()
      .default({}),
    /** The durable CI history (issue 13): embedded PGlite by default, or a PostgreSQL server. */
    history: z
      .object({
        enabled: z.boolean().default(true),
        /** PostgreSQL connection URL, e.g. `{ env: SWITCHYARD_HISTORY_URL }`; absent: embedded PGlite. */
        url: secretRefSchema.optional(),
        /** PGlite's data directory (without `url`); absent: in memory, lost on exit (demo and tests). */
        dataDir: z.string().min(1).optional(),
        /** Recorded history older than this is deleted (checked hourly). */
        retentionDays: z.number().int().min(1).max(3650).default(90),
        /** `pipelines`/`jobs` pages whose `createdBefore` (or cursor) is older than this are served from the history. */
        liveWindowHours: z.number().int().min(1).max(8760).default(24),
        /** How often the daily rollups' marked days are rebuilt (src/history/rollups); until then figures read those days' rows. */
        rollupIntervalSeconds: z.number().int().min(1).max(3600).default(30),
        /** Import of the recent past from each backend's REST API at start (src/history/backfill). */
        backfill: z
          .object({
            enabled: z.boolean().default(true),
            /** Pipelines created in the last `days` days (fractions allowed) are imported. */
            days: z.number().positive().max(3650).default(7),
            /** Upstream requests per minute per backend the backfill may send; live traffic keeps the rest. */
            requestsPerMinute: z.number().positive().max(100_000).default(30),
            /** Projects of one backend imported at the same time. */
            concurrency: z.number().int().min(1).max(16).default(1),
            /** Pause while the backend reports fewer requests left in its rate-limit window than this. */
            rateLimitReserve: z.number().int().min(0).default(500),
            /** Pipelines per list request (100: the most GitHub and GitLab give per page). */
            pageSize: z.number().int().min(1).max(100).default(100),
            /** Instances on one history backfill a backend one at a time; a holder that stops renewing loses it after this. */
            leaseSeconds: z.number().min(1).max(3600).default(30),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    /** Notification rules, sinks and exports (src/notify, NOTIFICATIONS.md): off until a sink is configured. */
    notifications: notificationsConfigSchema,
    /** Live job logs (src/logs, README "Live logs"): redaction, limits, chunk and ring sizes. */
    logs: logsConfigSchema,
    /** Prometheus `/metrics` (src/metrics): on by default; see README "Metrics" for who may scrape it. */
    metrics: metricsConfigSchema,
    /** OpenTelemetry traces over OTLP/HTTP (src/tracing): off unless `enabled`; see README "Traces". */
    tracing: tracingConfigSchema,
    /** Who may call, and what each caller sees. Required unless `mode: open` is set explicitly. */
    auth: authConfigSchema.default({}),
    backends: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes (used in URLs and IDs)'),
            // Any registered provider (src/adapters.ts): checked against the build's set in validateConfig.
            provider: z.string(),
          })
          .passthrough(),
      )
      .min(1, 'at least one backend'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.notifications.sinks.length > 0 && !c.history.enabled) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['history', 'enabled'],
        message: 'true while notifications.sinks is set (the notification outbox lives in the history database)',
      });
    }
    if (c.auth.mode === 'required' && c.auth.apiKeys.every((k) => k.revoked) && !c.auth.jwt) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['auth'],
        message:
          'API keys (create one with `npx switchyard keys create <id>`) or a jwt section; or `mode: open` to run without authentication (demo and local use only)',
      });
    }
  });

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfigBase = z.output<typeof gatewayConfigSchema>;
