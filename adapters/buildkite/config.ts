import { z } from 'zod';
import { secretRefSchema } from '../../src/adapter-contract.ts';
import { isSlug } from './native-ids.ts';

/**
 * One `backends[]` entry with `provider: buildkite` (the core has already taken
 * `name` and `provider` off). Secrets are references resolved only through
 * `ctx.secret(ref)`; their values never appear in config errors or logs.
 *
 * ```yaml
 * - name: buildkite
 *   provider: buildkite
 *   organization: acme
 *   token: { env: BUILDKITE_TOKEN }              # read_builds, read_agents, read_pipelines, read_build_logs
 *   writeToken: { env: BUILDKITE_WRITE_TOKEN }   # optional: write_builds; enables actions
 *   webhookSecret: { env: BUILDKITE_WEBHOOK_SECRET }  # the webhook's token, signature mode (HMAC)
 *   pipelines: [web, api]                        # optional: only these pipeline slugs
 * ```
 */
export const buildkiteConfigSchema = z
  .object({
    /** REST API root without `/v2` (the client appends it). */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), { message: 'expected an http(s) URL' })
      .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), { message: 'credentials do not belong in the URL; use `token`' })
      .refine((u) => !/[?#]/.test(u), { message: 'expected a base URL without query or fragment' })
      .transform((u) => u.replace(/\/+$/, '').replace(/\/v2$/, ''))
      .default('https://api.buildkite.com'),
    /** The organization slug (`acme` in https://buildkite.com/acme). */
    organization: z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'expected an organization slug such as "acme"'),
    /** API access token, sent as `Authorization: Bearer`. */
    token: secretRefSchema,
    /** A token used ONLY for actions (`write_builds`); reads never send it. Without it the backend is read-only. */
    writeToken: secretRefSchema.optional(),
    /** The webhook's token in signature mode: `X-Buildkite-Signature` HMAC-SHA256, with a replay window. */
    webhookSecret: secretRefSchema.optional(),
    /** The webhook's token in token mode: `X-Buildkite-Token`, compared timing-safe (no replay window). */
    webhookToken: secretRefSchema.optional(),
    /** Pipeline slugs to include; default: every pipeline of the organization. */
    pipelines: z.array(z.string().refine(isSlug, { message: 'expected a pipeline slug such as "web"' })).min(1).optional(),
    /** Interval while builds run. */
    pollIntervalSeconds: z.number().min(1).max(3600).default(30),
    /** Interval while nothing runs (default: the larger of 60 and pollIntervalSeconds). */
    idlePollIntervalSeconds: z.number().min(1).max(3600).optional(),
    /** Buildkite's default per-user limit is 50 requests/min; the client keeps at most this many per minute in flight. */
    requestsPerMinute: z.number().int().min(10).max(100_000).default(50),
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** How long an action follows the build it created before answering. */
    actionFollowMs: z.number().int().min(0).max(30_000).default(2_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.webhookSecret && c.webhookToken) {
      // A Buildkite webhook sends one or the other; accepting a plain token next to a signature would bypass the replay window.
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['webhookToken'], message: 'expected only one of webhookSecret (signature mode) or webhookToken (token mode)' });
    }
    if (c.idlePollIntervalSeconds !== undefined && c.idlePollIntervalSeconds < c.pollIntervalSeconds) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['idlePollIntervalSeconds'], message: `must be at least pollIntervalSeconds (${c.pollIntervalSeconds})` });
    }
  })
  .transform((c) => ({ ...c, idlePollIntervalSeconds: c.idlePollIntervalSeconds ?? Math.max(60, c.pollIntervalSeconds) }));

export type BuildkiteConfig = z.output<typeof buildkiteConfigSchema>;
export type BuildkiteConfigInput = z.input<typeof buildkiteConfigSchema>;

/** Whether a pipeline slug is inside the configured set (every slug when none is configured). */
export function includesSlug(pipelines: readonly string[] | undefined, slug: string): boolean {
  return pipelines === undefined || pipelines.includes(slug);
}
