import { nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
import type { EntityModel, ProjectModel } from '../../src/model.ts';
import { seg, type BuildkiteClient } from './client.ts';
import { includesSlug } from './config.ts';
import { parseProjectId } from './native-ids.ts';
import { toProject } from './normalize.ts';

/** How long a pipelines listing serves `list` and `get` before it is read again. */
const LIST_TTL_MS = 60_000;

/**
 * The backend's projects: the organization's pipelines, or the configured
 * slugs of them. Scope is decided from the config alone (a slug outside
 * `pipelines` is refused without a request); within it, `get` serves from the
 * last listing while fresh and reads one pipeline otherwise.
 */
export class ProjectDirectory {
  private cache: { atMs: number; projects: Map<string, ProjectModel> } | null = null;

  constructor(
    private readonly deps: {
      readonly backend: string;
      readonly client: BuildkiteClient;
      readonly organization: string;
      readonly pipelines: readonly string[] | undefined;
      readonly now: () => Date;
    },
  ) {}

  /** Whether a slug is inside the configured set (no request). */
  inScope(slug: string): boolean {
    return parseProjectId(slug) !== null && includesSlug(this.deps.pipelines, slug);
  }

  owns(entity: EntityModel): boolean {
    if (entity.backend !== this.deps.backend) return false;
    switch (entity.type) {
      case 'Runner':
        return true; // agents belong to the organization, the backend's scope
      case 'Project':
        return this.inScope(entity.nativeId);
      default:
        return this.inScope(entity.projectNativeId);
    }
  }

  async list(signal?: AbortSignal): Promise<ProjectModel[]> {
    return [...(await this.listing(signal)).values()];
  }

  async get(slug: string, signal?: AbortSignal): Promise<ProjectModel | null> {
    if (!this.inScope(slug)) return null;
    const cached = this.fresh()?.get(slug);
    if (cached) return cached;
    const data = await nullOn404(this.deps.client.getJson(`/organizations/${seg(this.deps.organization)}/pipelines/${seg(slug)}`, signal));
    return data === null ? null : toProject(this.deps.backend, data);
  }

  private fresh(): Map<string, ProjectModel> | null {
    const c = this.cache;
    return c && this.deps.now().getTime() - c.atMs < LIST_TTL_MS ? c.projects : null;
  }

  private async listing(signal?: AbortSignal): Promise<Map<string, ProjectModel>> {
    const fresh = this.fresh();
    if (fresh) return fresh;
    const { items } = await this.deps.client.getPaged(`/organizations/${seg(this.deps.organization)}/pipelines`, {}, 20, signal);
    const projects = new Map<string, ProjectModel>();
    for (const raw of items) {
      const p = tryProject(this.deps.backend, raw);
      if (p && this.inScope(p.nativeId)) projects.set(p.nativeId, p);
    }
    this.cache = { atMs: this.deps.now().getTime(), projects };
    return projects;
  }
}

/** One listing item that lacks its slug is skipped, not the whole listing. */
function tryProject(backend: string, raw: unknown): ProjectModel | null {
  try {
    return toProject(backend, raw);
  } catch {
    return null;
  }
}
