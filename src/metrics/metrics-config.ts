import { z } from 'zod';
import { secretRefSchema } from '../adapter-contract.ts';

/**
 * `metrics`: Prometheus `/metrics` (README "Metrics"). On by default; who may
 * scrape it on the main port depends on `bearerToken` and `auth.mode`
 * (see metrics-access.ts), or it moves to its own `listen` address.
 */
export const metricsConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Where the exposition is served (on the main port, or on `listen`). */
    path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'a path like /metrics').default('/metrics'),
    /** A listener of its own (e.g. a port only Prometheus can reach); the main port then does not serve metrics. */
    listen: z
      .object({
        port: z.number().int().min(0).max(65535),
        host: z.string().min(1).default('127.0.0.1'),
      })
      .strict()
      .optional(),
    /** Scrapers send `Authorization: Bearer <token>`, e.g. `{ env: SWITCHYARD_METRICS_TOKEN }` (at least 16 characters). */
    bearerToken: secretRefSchema.optional(),
    /**
     * Projects (full names, exactly as listed by the gateway, e.g. `acme/web`) whose CI metrics carry
     * their name in `cicd_pipeline_name`; every other project's runs are counted with an empty name.
     */
    projectLabels: z.array(z.string().min(1).max(200)).max(200).default([]),
  })
  .strict()
  .default({});

export type MetricsConfig = z.output<typeof metricsConfigSchema>;
