/**
 * Native id formats of the GitLab adapter (opaque to the core):
 *
 *   Project   <project id>                e.g. 42
 *   Pipeline  <project id>/pipelines/<id> e.g. 42/pipelines/1001
 *   Job       <project id>/jobs/<id>      e.g. 42/jobs/5003   (builds and bridges)
 *   Runner    <runner id>                 e.g. 7              (instance-wide unique)
 *
 * Projects are named by GitLab's numeric id, not their path: ids survive
 * renames and transfers between groups, and every webhook carries
 * `project_id`/`project.id`, so a delivery is addressable without a lookup.
 * Config entries may use paths; the project directory resolves them once.
 */
const NUMERIC = /^[1-9][0-9]{0,19}$/;

export interface PipelineRef {
  readonly projectId: string;
  readonly pipelineId: string;
}

export interface JobRef {
  readonly projectId: string;
  readonly jobId: string;
}

export function isNumericId(value: string): boolean {
  return NUMERIC.test(value);
}

/** `group/sub/project` (GitLab paths: letters, digits, `_`, `-`, `.`; at least two segments). */
export function isProjectPath(value: string): boolean {
  const parts = value.split('/');
  return parts.length >= 2 && parts.every((p) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/.test(p) && !p.endsWith('.git'));
}

export function isGroupPath(value: string): boolean {
  return value.split('/').every((p) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/.test(p));
}

export function formatProjectId(id: string | number): string {
  return String(id);
}

export function parseProjectId(id: string): string | null {
  return NUMERIC.test(id) ? id : null;
}

export function formatPipelineId(projectId: string | number, pipelineId: string | number): string {
  return `${projectId}/pipelines/${pipelineId}`;
}

export function parsePipelineId(id: string): PipelineRef | null {
  const m = /^(\d+)\/pipelines\/(\d+)$/.exec(id);
  if (!m || !NUMERIC.test(m[1]!) || !NUMERIC.test(m[2]!)) return null;
  return { projectId: m[1]!, pipelineId: m[2]! };
}

export function formatJobId(projectId: string | number, jobId: string | number): string {
  return `${projectId}/jobs/${jobId}`;
}

export function parseJobId(id: string): JobRef | null {
  const m = /^(\d+)\/jobs\/(\d+)$/.exec(id);
  if (!m || !NUMERIC.test(m[1]!) || !NUMERIC.test(m[2]!)) return null;
  return { projectId: m[1]!, jobId: m[2]! };
}

export function formatRunnerId(id: string | number): string {
  return String(id);
}

export function parseRunnerId(id: string): string | null {
  return NUMERIC.test(id) ? id : null;
}
