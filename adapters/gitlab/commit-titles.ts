import { asRecord, nonEmpty, str } from './fields.ts';

/**
 * The title of a commit object as GitLab sends it: `title`, else the first
 * line of `message` (older hook payloads carry only the message).
 */
export function commitTitleOf(commit: unknown): string | null {
  const c = asRecord(commit);
  if (!c) return null;
  for (const candidate of [str(c.title), str(c.message)?.split('\n')[0]]) {
    const title = candidate?.trim();
    if (title) return title;
  }
  return null;
}

const MAX_TITLES = 5000;

/**
 * Commit titles by sha, learnt from what the adapter reads anyway: hooks
 * (Pipeline Hook `commit.title`, Job Hook `commit.message` with `sha`) and REST
 * jobs (`commit.id` + `commit.title`). REST pipelines carry no commit title and
 * reading the commit would be one request per pipeline, so an unnamed REST
 * pipeline takes its title from here. A sha's title never changes, so REST and
 * hook observations of one pipeline agree and do not flip its name.
 * Per adapter instance (created in create()), bounded: oldest learnt first out.
 */
export class CommitTitles {
  private readonly titles = new Map<string, string>();

  of(sha: string | null): string | null {
    return sha ? this.titles.get(sha) ?? null : null;
  }

  learn(sha: string | null, title: string | null): void {
    if (!sha || !title || this.titles.get(sha) === title) return;
    this.titles.delete(sha);
    this.titles.set(sha, title);
    if (this.titles.size > MAX_TITLES) {
      const oldest = this.titles.keys().next();
      if (!oldest.done) this.titles.delete(oldest.value);
    }
  }

  /** A REST job (or bridge): `commit { id: sha, title }`. */
  learnFromJob(job: unknown): void {
    const commit = asRecord(asRecord(job)?.commit);
    this.learn(nonEmpty(commit?.id), commitTitleOf(commit));
  }

  /** A Pipeline Hook (`commit.id` is the sha) or a Job Hook (`commit.id` is the pipeline id; the sha is `sha`). */
  learnFromHook(payload: unknown): void {
    const body = asRecord(payload);
    const commit = asRecord(body?.commit);
    if (!body || !commit) return;
    const sha = str(body.object_kind) === 'build' ? nonEmpty(body.sha) ?? nonEmpty(commit.sha) : nonEmpty(commit.id);
    this.learn(sha, commitTitleOf(commit));
  }
}
