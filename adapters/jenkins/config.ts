import { z } from 'zod';
import { secretRefSchema } from '../../src/adapter-contract.ts';
import { isFullName } from './native-ids.ts';

/**
 * One `backends[]` entry with `provider: jenkins` (the core has already taken
 * `name` and `provider` off). Secrets are references resolved only through
 * `ctx.secret(ref)`; their values never appear in config errors or logs.
 */
export const jenkinsConfigSchema = z
  .object({
    /** The Jenkins root URL (with its context path, e.g. https://ci.example.com/jenkins). */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), { message: 'expected an http(s) URL' })
      .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), { message: 'credentials do not belong in the URL; use `user` and `apiToken`' })
      .refine((u) => !u.includes('?') && !u.includes('#'), { message: 'expected a URL without query or fragment' })
      .transform((u) => u.replace(/\/+$/, '')),
    /** The Jenkins user the API token belongs to (HTTP Basic). */
    user: z.string().min(1),
    /** An API token of `user` (User → Security → API Token), not the password. */
    apiToken: secretRefSchema,
    /**
     * An API token used ONLY for actions (cancel, retry, trigger, approve): present, it enables
     * `actions`; reads never send it, and actions never send `apiToken`. Needs Job/Build, Job/Cancel,
     * and membership of the `submitter` lists of the inputs it should answer.
     */
    writeToken: secretRefSchema.optional(),
    /** The Jenkins user `writeToken` belongs to (default: `user`). */
    writeUser: z.string().min(1).optional(),
    /** How long a trigger or retry follows its queue item to the build number it gets (then it names the queued build). */
    actionFollowMs: z.number().int().min(0).max(30_000).default(2_000),
    /** Enables `POST /webhooks/<name>` for Notification-plugin pushes (header X-Switchyard-Token or ?token=). */
    notifySecret: secretRefSchema.optional(),
    /** Job or folder full names to include (`team-a`, `team-a/service`); default: every job. */
    jobs: z.array(z.string().refine(isFullName, { message: 'expected a Jenkins full name such as "team-a/service"' })).min(1).optional(),
    /** How many folder levels to descend (folders, multibranch projects, organization folders). */
    folderDepth: z.number().int().min(1).max(10).default(5),
    /** Interval while anything builds or waits in the queue. */
    pollIntervalSeconds: z.number().min(1).max(3600).default(15),
    /** Interval while Jenkins is idle (default: the larger of 60 and pollIntervalSeconds). */
    idlePollIntervalSeconds: z.number().min(1).max(3600).optional(),
    /** Request budget per minute for this backend (token bucket); the poller defers detail reads when it is spent. */
    requestsPerMinute: z.number().int().min(10).max(100_000).default(120),
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.writeUser !== undefined && c.writeToken === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['writeUser'], message: 'expected writeToken too (writeUser names the user of the write token)' });
    }
    if (c.idlePollIntervalSeconds !== undefined && c.idlePollIntervalSeconds < c.pollIntervalSeconds) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['idlePollIntervalSeconds'],
        message: `must be at least pollIntervalSeconds (${c.pollIntervalSeconds})`,
      });
    }
  })
  .transform((c) => ({ ...c, idlePollIntervalSeconds: c.idlePollIntervalSeconds ?? Math.max(60, c.pollIntervalSeconds) }));

export type JenkinsConfig = z.output<typeof jenkinsConfigSchema>;
export type JenkinsConfigInput = z.input<typeof jenkinsConfigSchema>;

/** Whether a job full name lies under one of the configured roots (all when none). */
export function isIncluded(roots: readonly string[] | undefined, fullName: string): boolean {
  if (!roots) return true;
  return roots.some((r) => fullName === r || fullName.startsWith(`${r}/`));
}

/** Whether a folder may contain included jobs (so the scan must descend into it). */
export function mayContainIncluded(roots: readonly string[] | undefined, folderFullName: string): boolean {
  if (!roots) return true;
  return roots.some((r) => r === folderFullName || r.startsWith(`${folderFullName}/`) || folderFullName.startsWith(`${r}/`));
}
