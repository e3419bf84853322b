import type { RunnerModel } from '../../src/model.ts';
import { seg, type GitlabClient } from './client.ts';
import type { RunnerScopeSetting } from './config.ts';
import { isNotFound } from './errors.ts';
import { asRecord, idString, loose } from './fields.ts';
import { formatJobId, parseRunnerId } from './native-ids.ts';
import { toRunner } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import { ErrorCode } from '../../src/errors.ts';

/**
 * Runner lists of the configured scope, plus per-runner details (tag_list,
 * version, platform live only on `GET /runners/:id`), which are remembered for
 * `detailTtlMs`: tags rarely change, so a runner costs one detail call per TTL.
 * Busy/idle comes from `job_execution_status` (current GitLab); where a
 * GitLab does not send it, one `GET /runners/:id/jobs?status=running&per_page=1`
 * per online runner tells (and names the job).
 */
export class RunnerSet {
  private readonly details = new Map<string, { atMs: number; data: unknown }>();

  constructor(
    private readonly deps: {
      readonly backend: string;
      readonly client: GitlabClient;
      readonly scope: RunnerScopeSetting;
      readonly groups: readonly string[];
      readonly projects: ProjectDirectory;
      readonly now: () => Date;
      readonly detailTtlMs?: number;
    },
  ) {}

  /** The list endpoints this scope reads. */
  async sources(signal?: AbortSignal): Promise<string[]> {
    switch (this.deps.scope) {
      case 'all': return ['/runners/all'];
      case 'owned': return ['/runners'];
      case 'groups': return this.deps.groups.map((g) => `/groups/${seg(g)}/runners`);
      case 'projects': return (await this.deps.projects.ids(signal)).map((id) => `/projects/${seg(id)}/runners`);
      case 'none': return [];
    }
  }

  /** Every runner of the scope (deduplicated by id). */
  async list(opts: { probeBusy?: boolean; signal?: AbortSignal } = {}): Promise<RunnerModel[]> {
    const items = await this.listRaw(opts.signal);
    const observedAtMs = this.deps.now().getTime();
    return Promise.all([...items.values()].map((raw) => this.build(raw, observedAtMs, opts.probeBusy ?? true, opts.signal)));
  }

  /** Runners by id: one listing per source for the whole batch, details only for the ids asked. */
  async byIds(ids: readonly string[], signal?: AbortSignal): Promise<Array<RunnerModel | null | Error>> {
    const wanted = ids.map((id) => parseRunnerId(id));
    if (wanted.every((w) => w === null)) return ids.map(() => null);
    let items: Map<string, unknown>;
    try {
      items = await this.listRaw(signal);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      return ids.map((_, i) => (wanted[i] === null ? null : e));
    }
    const observedAtMs = this.deps.now().getTime();
    const built = new Map<string, Promise<RunnerModel | Error>>();
    for (const id of wanted) {
      if (id === null || built.has(id)) continue;
      const raw = items.get(id);
      if (raw !== undefined) built.set(id, this.build(raw, observedAtMs, false, signal).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
    }
    return Promise.all(wanted.map(async (id) => (id === null ? null : (await built.get(id)) ?? null)));
  }

  private async listRaw(signal?: AbortSignal): Promise<Map<string, unknown>> {
    const sources = await this.sources(signal);
    const lists = await Promise.all(sources.map((path) => this.deps.client.getAllPages<unknown>(path, {}, undefined, signal)));
    const byId = new Map<string, unknown>();
    for (const list of lists) {
      for (const raw of list) {
        const id = idString(asRecord(raw)?.id);
        if (id) byId.set(id, raw);
      }
    }
    return byId;
  }

  private async build(raw: unknown, observedAtMs: number, probeBusy: boolean, signal?: AbortSignal): Promise<RunnerModel> {
    const r = loose(raw);
    const id = idString(r.id)!;
    const detail = await this.detail(id, signal);
    let busy: boolean | null = null;
    let currentJobNativeId: string | null = null;
    if (probeBusy && r.online === true && r.job_execution_status === undefined) {
      const res = await this.deps.client.get<unknown>(`/runners/${seg(id)}/jobs`, { status: 'running', per_page: 1 }, signal);
      const first = Array.isArray(res.data) ? loose(res.data[0]) : null;
      busy = first !== null && Array.isArray(res.data) && res.data.length > 0;
      const jobId = idString(first?.id);
      const projectId = idString(asRecord(first?.project)?.id) ?? idString(asRecord(first?.pipeline)?.project_id);
      if (busy && jobId && projectId) currentJobNativeId = formatJobId(projectId, jobId);
    }
    return toRunner(this.deps.backend, raw, observedAtMs, { detail, busy, currentJobNativeId });
  }

  private async detail(id: string, signal?: AbortSignal): Promise<unknown> {
    const nowMs = this.deps.now().getTime();
    const cached = this.details.get(id);
    if (cached && nowMs - cached.atMs < (this.deps.detailTtlMs ?? 600_000)) return cached.data;
    try {
      const res = await this.deps.client.get<unknown>(`/runners/${seg(id)}`, {}, signal);
      this.details.set(id, { atMs: nowMs, data: res.data });
      return res.data;
    } catch (error) {
      // Without detail the runner still shows, without tags; a 403 (no access to details) is not fatal.
      if (isNotFound(error) || (error instanceof Error && 'code' in error && error.code === ErrorCode.UpstreamUnauthorized)) return cached?.data;
      throw error;
    }
  }
}
