import { z } from 'zod';
import { secretRefSchema } from '../../src/adapter-contract.ts';
import { isGroupPath, isNumericId, isProjectPath } from './native-ids.ts';

/**
 * One `backends[]` entry with `provider: gitlab` (the core has taken `name`
 * and `provider` off). Secrets are references resolved through ctx.secret.
 *
 * ```yaml
 * - name: gitlab
 *   provider: gitlab
 *   url: https://gitlab.example.com/api/v4   # default https://gitlab.com/api/v4
 *   token: { env: GITLAB_TOKEN }             # read_api scope
 *   writeToken: { env: GITLAB_WRITE_TOKEN }  # optional: `api` scope, Developer+; enables actions
 *   webhookToken: { env: GITLAB_WEBHOOK_TOKEN }
 *   webhookSigningToken: { env: GITLAB_WEBHOOK_SIGNING_TOKEN }  # optional whsec_...
 *   projects: [platform/backend, 1234]
 *   groups: [platform]
 *   runners: { scope: groups }
 * ```
 */
const projectRef = z
  .union([z.string(), z.number().int().positive().transform(String)])
  .refine((v) => isNumericId(v) || isProjectPath(v), { message: 'expected a project path "group/project" or a numeric project id' });
const groupRef = z
  .union([z.string(), z.number().int().positive().transform(String)])
  .refine((v) => v.length > 0 && (isNumericId(v) || isGroupPath(v)), { message: 'expected a group path or a numeric group id' });

export const RUNNER_SCOPES = ['all', 'owned', 'groups', 'projects', 'none'] as const;
export type RunnerScopeSetting = (typeof RUNNER_SCOPES)[number];

export const gitlabConfigSchema = z
  .object({
    /** REST API base: https://gitlab.com/api/v4 or https://<host>/api/v4 (self-managed). */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), { message: 'expected an http(s) URL' })
      .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), { message: 'credentials do not belong in the URL; use `token`' })
      .refine((u) => !/[?#]/.test(u), { message: 'expected a base URL without query or fragment' })
      .transform((u) => u.replace(/\/+$/, ''))
      .default('https://gitlab.com/api/v4'),
    /** Personal, group or project access token with `read_api`; sent as PRIVATE-TOKEN. */
    token: secretRefSchema.optional(),
    /**
     * Token for actions only (cancel, retry, trigger, play, deployment approval): `api` scope, a
     * Developer (Maintainer for force-cancel) on the projects. Never sent with reads; without it
     * the backend is read-only (`adapter.actions` absent).
     */
    writeToken: secretRefSchema.optional(),
    /** The hook's "Secret token"; enables webhooks (X-Gitlab-Token, compared timing-safe). */
    webhookToken: secretRefSchema.optional(),
    /** The hook's signing token (`whsec_...`): Standard Webhooks signature checked when set. */
    webhookSigningToken: secretRefSchema.optional(),
    /** Project paths (`group/sub/project`) or numeric ids. */
    projects: z.array(projectRef).default([]),
    /** Every project of these groups, subgroups included. */
    groups: z.array(groupRef).default([]),
    /**
     * Which runner list to read: `all` (GET /runners/all, administrators of
     * self-managed), `owned` (GET /runners), `groups` (GET /groups/:id/runners
     * of `groups`), `projects` (GET /projects/:id/runners of every project),
     * `none`. Default: `groups` when groups are configured, else `projects`.
     */
    runners: z.object({ scope: z.enum(RUNNER_SCOPES) }).strict().optional(),
    /** Show trigger jobs (bridges) as jobs: one extra call per pipeline whose jobs are read. */
    bridges: z.boolean().default(true),
    pollIntervalSeconds: z.number().min(1).max(3600).default(30),
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.projects.length === 0 && c.groups.length === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['projects'], message: 'at least one of `projects` or `groups` is required' });
    }
    if (c.runners?.scope === 'groups' && c.groups.length === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['runners', 'scope'], message: '`groups` scope needs `groups`' });
    }
    if (c.webhookSigningToken && !c.webhookToken) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['webhookSigningToken'], message: 'needs `webhookToken` as well' });
    }
  });

export type GitlabConfig = z.output<typeof gitlabConfigSchema>;
export type GitlabConfigInput = z.input<typeof gitlabConfigSchema>;

export function runnerScopeOf(config: GitlabConfig): RunnerScopeSetting {
  return config.runners?.scope ?? (config.groups.length > 0 ? 'groups' : 'projects');
}
