import type { EntityModel, PipelineModel } from '../model.ts';
import { CreatedIndex, createdTime } from './created-index.ts';

export interface Entry<T extends EntityModel> {
  entity: T;
  /** When the gateway last confirmed this state (ms since epoch). */
  seenAt: number;
}

const typeBackend = (type: string, backend: string) => `${type}\u0000${backend}`;
const backendProject = (backend: string, project: string) => `${backend}\u0000${project}`;

/**
 * The live state's entries grouped the way list queries read them, so no list
 * walks the whole state: per (type, backend) in recency order, and pipelines
 * per backend and per project by creation time. LiveState keeps these in step
 * with its entries on every create, change, revert, eviction and drop.
 */
export class StateIndexes {
  private readonly byTypeBackend = new Map<string, Map<string, Entry<EntityModel>>>();
  private readonly pipelinesByBackend = new Map<string, CreatedIndex>();
  private readonly pipelinesByProject = new Map<string, CreatedIndex>();

  add(entry: Entry<EntityModel>): void {
    const e = entry.entity;
    const k = typeBackend(e.type, e.backend);
    let group = this.byTypeBackend.get(k);
    if (!group) {
      group = new Map();
      this.byTypeBackend.set(k, group);
    }
    group.set(e.nativeId, entry);
    if (e.type === 'Pipeline') this.addPipeline(e);
  }

  remove(entity: EntityModel): void {
    const k = typeBackend(entity.type, entity.backend);
    const group = this.byTypeBackend.get(k);
    group?.delete(entity.nativeId);
    if (group?.size === 0) this.byTypeBackend.delete(k);
    if (entity.type === 'Pipeline') this.removePipeline(entity);
  }

  /** The entry now holds `entity` instead of `previous`; `recent` moves it to the end of its group's recency order. */
  replaced(entry: Entry<EntityModel>, previous: EntityModel, recent: boolean): void {
    const e = entry.entity;
    if (recent) {
      const group = this.byTypeBackend.get(typeBackend(e.type, e.backend));
      group?.delete(e.nativeId);
      group?.set(e.nativeId, entry);
    }
    if (e.type !== 'Pipeline' || previous.type !== 'Pipeline') return;
    if (e.createdAt === previous.createdAt && e.projectNativeId === previous.projectNativeId) return;
    this.removePipeline(previous);
    this.addPipeline(e);
  }

  /** Entries of a type, of one backend or of all, in recency order per backend. */
  *entries(type: string, backend?: string): Generator<Entry<EntityModel>> {
    if (backend !== undefined) {
      yield* this.byTypeBackend.get(typeBackend(type, backend))?.values() ?? [];
      return;
    }
    const prefix = `${type}\u0000`;
    for (const [k, group] of this.byTypeBackend) if (k.startsWith(prefix)) yield* group.values();
  }

  get(type: string, backend: string, nativeId: string): Entry<EntityModel> | undefined {
    return this.byTypeBackend.get(typeBackend(type, backend))?.get(nativeId);
  }

  /** The creation-time index of a backend's pipelines, or of one project's. */
  pipelinesByCreation(backend: string, projectNativeId?: string): CreatedIndex | undefined {
    return projectNativeId === undefined ? this.pipelinesByBackend.get(backend) : this.pipelinesByProject.get(backendProject(backend, projectNativeId));
  }

  private addPipeline(p: PipelineModel): void {
    const time = createdTime(p.createdAt);
    for (const [map, k] of [[this.pipelinesByBackend, p.backend], [this.pipelinesByProject, backendProject(p.backend, p.projectNativeId)]] as const) {
      let index = map.get(k);
      if (!index) {
        index = new CreatedIndex();
        map.set(k, index);
      }
      index.add(time, p.nativeId);
    }
  }

  private removePipeline(p: PipelineModel): void {
    const time = createdTime(p.createdAt);
    for (const [map, k] of [[this.pipelinesByBackend, p.backend], [this.pipelinesByProject, backendProject(p.backend, p.projectNativeId)]] as const) {
      const index = map.get(k);
      index?.remove(time, p.nativeId);
      if (index?.size === 0) map.delete(k);
    }
  }
}
