import { z } from 'zod';
import { secretRefSchema } from '../../src/adapter-contract.ts';
import { isRepoFullName } from './native-ids.ts';

/**
 * One `backends[]` entry with `provider: github` (the core has already taken
 * `name` and `provider` off). Secrets are references, resolved only through
 * `ctx.secret(ref)`; the resolved values never appear in config errors or logs.
 */

const secretRef = secretRefSchema;

const repoName = z.string().refine(isRepoFullName, { message: 'expected "owner/repo"' });
const orgName = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'expected a GitHub organization login');

export const githubConfigSchema = z
  .object({
    /** REST API base: https://api.github.com, or https://<host>/api/v3 for GHES. */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), { message: 'expected an http(s) URL' })
      .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), { message: 'credentials do not belong in the URL; use `token`' })
      .transform((u) => u.replace(/\/+$/, ''))
      .default('https://api.github.com'),
    /** Optional: without a token only public repositories work, at 60 requests/hour. */
    token: secretRef.optional(),
    /**
     * Optional write credentials for actions (issue 15): cancel, re-run, dispatch and deployment
     * reviews use this token only, and reads never do. Without it the backend is read-only.
     * Needs Actions: write (and Deployments: write to review deployments) on the repositories.
     */
    writeToken: secretRef.optional(),
    /** Enables webhooks (X-Hub-Signature-256 verification). */
    webhookSecret: secretRef.optional(),
    /** Older secrets still accepted while a rotation is rolled out. */
    additionalWebhookSecrets: z.array(secretRef).default([]),
    repositories: z.array(repoName).default([]),
    /** Every repository of these organizations is included (GET /orgs/{org}/repos). */
    organizations: z.array(orgName).default([]),
    /** Which self-hosted runner lists to read. Default: the org runners of `organizations`. */
    runners: z
      .object({
        organizations: z.array(orgName).optional(),
        repositories: z.array(repoName).optional(),
      })
      .strict()
      .optional(),
    pollIntervalSeconds: z.number().min(5).max(3600).default(30),
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.repositories.length === 0 && c.organizations.length === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['repositories'],
        message: 'at least one of `repositories` or `organizations` is required',
      });
    }
    if (c.additionalWebhookSecrets.length > 0 && !c.webhookSecret) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['additionalWebhookSecrets'],
        message: 'needs `webhookSecret` as well',
      });
    }
  });

export type GithubConfig = z.output<typeof githubConfigSchema>;
export type GithubConfigInput = z.input<typeof githubConfigSchema>;

/** Runner lists to read, after defaults. */
export function runnerScopesOf(config: GithubConfig): { organizations: readonly string[]; repositories: readonly string[] } {
  return {
    organizations: config.runners?.organizations ?? config.organizations,
    repositories: config.runners?.repositories ?? [],
  };
}
