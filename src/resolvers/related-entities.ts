import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.ts';
import { ErrorCode, gatewayError } from '../errors.ts';
import type { JobModel, PipelineModel, ProjectModel } from '../model.ts';
import { reportBackendFailure, scopedBackendError } from './backend-calls.ts';
import { backendOf } from './field-helpers.ts';
import { recordedNode } from './history-nodes.ts';

/**
 * The pipeline of a job (of a job finished long ago, as the history recorded it). A
 * failed parent load never nulls the job: the
 * pipeline the live state knows is served (the backend's error is reported
 * alongside); when nothing is known the field alone is null, with the error
 * at its path.
 */
export async function pipelineOfJob(j: JobModel, ctx: GatewayContext, info: GraphQLResolveInfo): Promise<PipelineModel | null> {
  const backend = backendOf(ctx, j.backend);
  // Finished long ago and no longer live: as the history recorded it (history-nodes.ts).
  const recorded = (await recordedNode(ctx, 'Pipeline', j.backend, j.pipelineNativeId))?.entity;
  if (recorded?.type === 'Pipeline' && backend.adapter.owns(recorded)) return recorded;
  let loaded: PipelineModel | null;
  try {
    loaded = await ctx.loaders(backend).pipeline.load(j.pipelineNativeId);
  } catch (error) {
    const known = ctx.state.get('Pipeline', j.backend, j.pipelineNativeId);
    if (!known || !backend.adapter.owns(known)) throw scopedBackendError(ctx, backend, error, info);
    reportBackendFailure(ctx, backend, error, info);
    return known;
  }
  if (loaded) return loaded;
  throw gatewayError(ErrorCode.NotFound, `pipeline ${j.pipelineNativeId} of job ${j.nativeId} was not found on ${j.backend}`, {
    extensions: { backend: j.backend },
  });
}

/**
 * The project of a pipeline or job. It is known from the child's own id, so
 * an unreadable or failing project never nulls the child: the live state's
 * version, else a stand-in built from the id (a failure is reported alongside).
 */
export async function projectOfEntity(
  e: { readonly backend: string; readonly projectNativeId: string },
  ctx: GatewayContext,
  info: GraphQLResolveInfo,
): Promise<ProjectModel> {
  const backend = backendOf(ctx, e.backend);
  try {
    const project = await ctx.loaders(backend).project.load(e.projectNativeId);
    if (project) return project;
  } catch (error) {
    reportBackendFailure(ctx, backend, error, info);
    const known = ctx.state.get('Project', e.backend, e.projectNativeId);
    if (known) return known;
  }
  // The project may be gone or unreadable; still answer with what the child says.
  const name = e.projectNativeId.split('/').at(-1) ?? e.projectNativeId;
  return { type: 'Project', backend: e.backend, nativeId: e.projectNativeId, revision: [0], name, fullName: e.projectNativeId, url: null, defaultBranch: null };
}
