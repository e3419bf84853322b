import { SharedRequests } from '../../src/adapter-kit/shared-requests.ts';
import type { EntityModel, ProjectModel } from '../../src/model.ts';
import { seg, type GitlabClient } from './client.ts';
import { isNotFound } from './errors.ts';
import { asRecord, idString, str } from './fields.ts';
import { isNumericId, parseProjectId } from './native-ids.ts';
import { toProject } from './normalize.ts';

/**
 * The configured projects (paths or ids) plus every project of the configured
 * groups (subgroups included). Resolved with one `GET /groups/:id/projects`
 * listing per group (paged) and one `GET /projects/:id` per project outside
 * those groups, remembered for `ttlMs`.
 */
export class ProjectDirectory {
  private cache: { atMs: number; projects: Map<string, ProjectModel> } | null = null;
  /** One listing at a time, shared by the reads that need it; aborted only when all of them gave up. */
  private readonly loading = new SharedRequests<Map<string, ProjectModel>>();
  /** Numeric ids and lower-cased paths seen in listings (for `covers`). */
  private readonly knownIds = new Set<string>();
  private readonly knownPaths = new Set<string>();

  constructor(
    private readonly client: GitlabClient,
    private readonly backend: string,
    private readonly projects: readonly string[],
    private readonly groups: readonly string[],
    private readonly now: () => Date,
    private readonly ttlMs = 60_000,
  ) {}

  async ids(signal?: AbortSignal): Promise<string[]> {
    return [...(await this.load(signal)).keys()].sort((a, b) => Number(a) - Number(b));
  }

  async list(signal?: AbortSignal): Promise<ProjectModel[]> {
    return [...(await this.load(signal)).values()].sort((a, b) => a.fullName.localeCompare(b.fullName));
  }

  async get(projectId: string, signal?: AbortSignal): Promise<ProjectModel | null> {
    if (!parseProjectId(projectId)) return null;
    const fresh = this.fresh()?.get(projectId);
    if (fresh) return fresh;
    if (!this.covers(projectId)) {
      // Not (yet) known to be ours: load the set once, then decide.
      const all = await this.load(signal);
      return all.get(projectId) ?? null;
    }
    try {
      const res = await this.client.get<unknown>(`/projects/${seg(projectId)}`, {}, signal);
      return toProject(this.backend, res.data);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Whether a project id is one of ours, for reads by id: known from config or an
   * earlier listing, else decided by the (cached, single-flight) listing, so
   * forged ids cost at most one listing per `ttlMs`, never one request per id.
   */
  async includes(projectId: string, signal?: AbortSignal): Promise<boolean> {
    if (!parseProjectId(projectId)) return false;
    if (this.covers(projectId)) return true;
    return (await this.load(signal)).has(projectId);
  }

  /**
   * `covers`, remembering an id whose path lies in a configured group (a
   * webhook for a project created after the last listing), so later reads of
   * its entities by id are in scope too.
   */
  admit(projectId: string, path?: string | null): boolean {
    const ours = this.covers(projectId, path);
    if (ours && parseProjectId(projectId)) this.knownIds.add(projectId);
    return ours;
  }

  /** Whether an entity belongs to this backend (sync; runners come only from configured runner scopes). */
  owns(entity: EntityModel): boolean {
    switch (entity.type) {
      case 'Project':
        return this.covers(entity.nativeId, entity.fullName);
      case 'Pipeline':
      case 'Job':
        return this.covers(entity.projectNativeId);
      case 'Runner':
        return true;
    }
  }

  /**
   * Whether a project belongs to this backend, from its numeric id and, when
   * known (webhooks carry it), its path. Sync: uses config and earlier listings.
   */
  covers(projectId: string, path?: string | null): boolean {
    if (this.knownIds.has(projectId) || this.projects.includes(projectId)) return true;
    const p = path?.toLowerCase();
    if (!p) return false;
    if (this.knownPaths.has(p)) return true;
    if (this.projects.some((x) => !isNumericId(x) && x.toLowerCase() === p)) return true;
    return this.groups.some((g) => !isNumericId(g) && p.startsWith(`${g.toLowerCase()}/`));
  }

  private fresh(): Map<string, ProjectModel> | null {
    return this.cache && this.now().getTime() - this.cache.atMs < this.ttlMs ? this.cache.projects : null;
  }

  private load(signal?: AbortSignal): Promise<Map<string, ProjectModel>> {
    const fresh = this.fresh();
    if (fresh) return Promise.resolve(fresh);
    return this.loading.join('all', (shared) => this.fetchAll(shared), signal);
  }

  private async fetchAll(signal: AbortSignal): Promise<Map<string, ProjectModel>> {
    const atMs = this.now().getTime();
    const out = new Map<string, ProjectModel>();
    const add = (raw: unknown) => {
      try {
        const p = toProject(this.backend, raw);
        out.set(p.nativeId, p);
        this.knownIds.add(p.nativeId);
        const path = str(asRecord(raw)?.path_with_namespace);
        if (path) this.knownPaths.add(path.toLowerCase());
      } catch {
        // unaddressable entry
      }
    };
    const groupLists = await Promise.all(
      this.groups.map((g) => this.client.getAllPages<unknown>(`/groups/${seg(g)}/projects`, { include_subgroups: true, archived: false, order_by: 'id', sort: 'asc' }, undefined, signal)),
    );
    for (const list of groupLists) for (const raw of list) add(raw);
    const covered = new Set([...out.values()].flatMap((p) => [p.nativeId, p.fullName.toLowerCase()]));
    const missing = this.projects.filter((ref) => !covered.has(ref.toLowerCase()));
    await Promise.all(
      missing.map(async (ref) => {
        try {
          const res = await this.client.get<unknown>(`/projects/${seg(ref)}`, {}, signal);
          add(res.data);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }),
    );
    this.cache = { atMs, projects: out };
    return out;
  }
}

/** `project_id` of a payload or REST object, as a string. */
export function projectIdOf(value: unknown): string | null {
  return idString(value);
}
