import type { EntityModel, ProjectModel } from '../../src/model.ts';
import type { GithubClient } from './client.ts';
import { isNotFound } from './errors.ts';
import { asRecord } from './fields.ts';
import { formatProjectId, parseHostedRunnerId, parseProjectId, projectIdOf } from './native-ids.ts';
import { toProject } from './normalize.ts';
import type { RepoPayload } from './upstream-types.ts';

/**
 * The configured repositories plus every repository of the configured
 * organizations. Org listings are conditional requests and are remembered for
 * `ttlMs`, so listing pipelines or polling does not re-list orgs every time.
 */
export class ProjectDirectory {
  private orgRepos: { atMs: number; repos: Map<string, RepoPayload> } | null = null;

  constructor(
    private readonly client: GithubClient,
    private readonly backend: string,
    private readonly repositories: readonly string[],
    private readonly organizations: readonly string[],
    private readonly now: () => Date,
    private readonly ttlMs = 60_000,
  ) {}

  /** Native ids of all projects (deduplicated, lower-case). */
  async ids(signal?: AbortSignal): Promise<string[]> {
    const ids = new Set(this.repositories.map(formatProjectId));
    for (const id of (await this.listOrgRepos(signal)).keys()) ids.add(id);
    return [...ids].sort();
  }

  /** True when the id is configured directly or belongs to a configured org. */
  covers(projectId: string): boolean {
    const ref = parseProjectId(projectId);
    if (!ref) return false;
    const id = formatProjectId(projectId);
    return this.repositories.some((r) => formatProjectId(r) === id) || this.organizations.some((o) => o.toLowerCase() === ref.owner);
  }

  /** Whether an entity's repository is covered. */
  owns(entity: EntityModel): boolean {
    switch (entity.type) {
      case 'Project':
        return this.covers(entity.nativeId);
      case 'Pipeline':
      case 'Job':
        return this.covers(entity.projectNativeId);
      case 'Runner': {
        // A GitHub-hosted runner belongs to its job's repository; the others come from configured runner sources.
        const job = parseHostedRunnerId(entity.nativeId);
        return job ? this.covers(projectIdOf(job)) : true;
      }
    }
  }

  async list(signal?: AbortSignal): Promise<ProjectModel[]> {
    const orgRepos = await this.listOrgRepos(signal);
    const out = new Map<string, ProjectModel>();
    for (const [id, repo] of orgRepos) out.set(id, toProject(this.backend, repo));
    // Configured repos outside the orgs need their own GET (ETag-cached).
    const missing = this.repositories.map(formatProjectId).filter((id) => !out.has(id));
    const fetched = await Promise.all(missing.map((id) => this.get(id, signal)));
    for (const p of fetched) if (p) out.set(p.nativeId, p);
    return [...out.values()].sort((a, b) => a.nativeId.localeCompare(b.nativeId));
  }

  /** One repository; null when GitHub answers 404 (gone or no access). */
  async get(projectId: string, signal?: AbortSignal): Promise<ProjectModel | null> {
    const ref = parseProjectId(projectId);
    if (!ref) return null;
    // A fresh org listing already holds the full repository object: no extra call.
    const listed = this.freshOrgRepos()?.get(formatProjectId(projectId));
    if (listed) return toProject(this.backend, listed);
    try {
      const res = await this.client.get<RepoPayload>('GET /repos/{owner}/{repo}', { owner: ref.owner, repo: ref.repo }, signal);
      return toProject(this.backend, res.data);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private freshOrgRepos(): Map<string, RepoPayload> | null {
    const nowMs = this.now().getTime();
    return this.orgRepos && nowMs - this.orgRepos.atMs < this.ttlMs ? this.orgRepos.repos : null;
  }

  private async listOrgRepos(signal?: AbortSignal): Promise<Map<string, RepoPayload>> {
    const fresh = this.freshOrgRepos();
    if (fresh) return fresh;
    const nowMs = this.now().getTime();
    const repos = new Map<string, RepoPayload>();
    const pages = await Promise.all(
      this.organizations.map((org) =>
        this.client.getAllPages('GET /orgs/{org}/repos', { org, type: 'all' }, (page) => (Array.isArray(page) ? (page as RepoPayload[]) : []), 50, signal),
      ),
    );
    for (const { items } of pages) {
      for (const repo of items) {
        const full = asRecord(repo)?.full_name;
        if (typeof full === 'string' && parseProjectId(full)) repos.set(formatProjectId(full), repo);
      }
    }
    this.orgRepos = { atMs: nowMs, repos };
    return repos;
  }
}
