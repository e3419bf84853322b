import { perDistinctKey } from '../../src/adapter-kit/per-distinct-key.ts';
import { nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
import type { PipelineInputModel } from '../../src/adapter-contract.ts';
import { seg } from './client.ts';
import { asRecord, str } from './fields.ts';
import type { LoaderDeps } from './loaders.ts';
import { parsePipelineId } from './native-ids.ts';

/**
 * `GET /projects/:id/pipelines/:pipeline_id/variables` (read token): the variables a pipeline
 * was created with, one request per distinct pipeline. Null for ids outside the configured
 * projects or a pipeline GitLab no longer has. Spec inputs are not exposed by the REST API.
 */
export function loadPipelineInputs(deps: LoaderDeps, ids: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<readonly PipelineInputModel[] | null | Error>> {
  return perDistinctKey(ids, async (id): Promise<readonly PipelineInputModel[] | null> => {
    const ref = parsePipelineId(id);
    if (!ref || !(await deps.projects.includes(ref.projectId, signal))) return null;
    const res = await nullOn404(deps.client.get<unknown>(`/projects/${seg(ref.projectId)}/pipelines/${seg(ref.pipelineId)}/variables`, {}, signal));
    if (!res) return null;
    const out: PipelineInputModel[] = [];
    for (const item of Array.isArray(res.data) ? res.data : []) {
      const key = str(asRecord(item)?.key);
      const value = asRecord(item)?.value;
      if (key !== null) out.push({ name: key, value: typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value) });
    }
    return out;
  });
}
