/**
 * Every path an action sends, in one place, so `plan` and `perform` cannot drift apart. Paths are
 * below the backend's `url` (REST v2 under `/v2`), address builds by number (reference §6.6), and
 * carry no credentials and no input values (those travel in JSON bodies).
 */

/** Placeholders of a plan for values only Buildkite's answer names. */
export const PLACEHOLDER = { jobId: '{jobId}' } as const;

const seg = encodeURIComponent;

export function actionPaths(organization: string) {
  const pipeline = (slug: string) => `/v2/organizations/${seg(organization)}/pipelines/${seg(slug)}`;
  const build = (slug: string, n: number) => `${pipeline(slug)}/builds/${n}`;
  const job = (slug: string, n: number, jobId: string) => `${build(slug, n)}/jobs/${jobId === PLACEHOLDER.jobId ? jobId : seg(jobId)}`;
  return {
    /** The build with every attempt of every job: a job that was retried is still found by its id. */
    build: (slug: string, n: number) => `${build(slug, n)}?include_retried_jobs=true`,
    cancel: (slug: string, n: number) => `${build(slug, n)}/cancel`,
    rebuild: (slug: string, n: number) => `${build(slug, n)}/rebuild`,
    retryJob: (slug: string, n: number, jobId: string) => `${job(slug, n, jobId)}/retry`,
    unblock: (slug: string, n: number, jobId: string) => `${job(slug, n, jobId)}/unblock`,
    createBuild: (slug: string) => `${pipeline(slug)}/builds`,
  };
}

export type ActionPaths = ReturnType<typeof actionPaths>;
