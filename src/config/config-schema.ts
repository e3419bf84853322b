import { z } from 'zod';

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
      })
      .strict()
      .default({}),
    /** How long webhook/poll-delivered state and list results are served without an upstream call. */
    freshnessSeconds: z.number().min(0).max(3600).default(15),
    /** Deadline for one backend's part of a query; past it the backend is reported as timed out. */
    backendTimeoutMs: z.number().int().min(100).max(120_000).default(8000),
    /** Events buffered per subscription before the subscriber is told it is too slow. */
    subscriptionQueueLimit: z.number().int().min(16).max(100_000).default(1000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    backends: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes (used in URLs and IDs)'),
            provider: z.enum(['github', 'gitlab', 'jenkins']),
          })
          .passthrough(),
      )
      .min(1, 'at least one backend'),
  })
  .strict();

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfigBase = z.output<typeof gatewayConfigSchema>;
