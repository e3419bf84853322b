import type { ActionCall, ActionRequest } from '../../src/adapter-contract.ts';
import { PLACEHOLDER, type ActionPaths } from './action-paths.ts';
import { parseJobId, parsePipelineId, parseProjectId } from './native-ids.ts';

/**
 * Pure: the calls `perform` sends on the happy path, for a dry run. `{jobId}` stands for the job
 * only Buildkite's answer names (the block step a Pipeline approval unblocks, each failed job a
 * `failedOnly` retry retries). Follow-up reads after a cancel or an unblock are left out: they
 * happen only while the build has not shown the change yet. Unsupported kinds and unparseable
 * ids plan nothing (perform refuses them before any request).
 */
export function planAction(paths: ActionPaths, request: ActionRequest): ActionCall[] {
  switch (request.kind) {
    case 'cancelPipeline': {
      const ref = parsePipelineId(request.pipelineNativeId);
      return ref ? [put(paths.cancel(ref.slug, ref.number))] : [];
    }
    case 'cancelJob':
    case 'reject':
      return [];
    case 'retryPipeline': {
      const ref = parsePipelineId(request.pipelineNativeId);
      if (!ref) return [];
      return request.failedOnly
        ? [get(paths.build(ref.slug, ref.number)), put(paths.retryJob(ref.slug, ref.number, PLACEHOLDER.jobId))]
        : [put(paths.rebuild(ref.slug, ref.number))];
    }
    case 'retryJob': {
      const ref = parseJobId(request.jobNativeId);
      return ref ? [get(paths.build(ref.slug, ref.number)), put(paths.retryJob(ref.slug, ref.number, ref.jobId))] : [];
    }
    case 'triggerPipeline': {
      const slug = parseProjectId(request.projectNativeId);
      return slug ? [{ method: 'POST', path: paths.createBuild(slug) }] : [];
    }
    case 'approve': {
      const job = request.target.type === 'Job' ? parseJobId(request.target.nativeId) : null;
      const ref = job ?? (request.target.type === 'Pipeline' ? parsePipelineId(request.target.nativeId) : null);
      if (!ref) return [];
      return [get(paths.build(ref.slug, ref.number)), put(paths.unblock(ref.slug, ref.number, job?.jobId ?? PLACEHOLDER.jobId))];
    }
  }
}

const get = (path: string): ActionCall => ({ method: 'GET', path });
const put = (path: string): ActionCall => ({ method: 'PUT', path });
