/**
 * Native id formats of the Jenkins adapter (opaque to the core):
 *
 *   Project   <full name>                       team-a/service, shop/web/feature%2Fx
 *   Pipeline  <full name>#<build number>        team-a/service#42
 *             <full name>#queue-<queue id>      team-a/service#queue-117 (a queued build)
 *   Job       <full name>#<number>/stage/<id>   a wfapi stage of a Pipeline build
 *             <full name>#<number>/build        the single Job of a freestyle build
 *   Runner    <computer displayName>           agent-1, Built-In Node
 *
 * The full name is Jenkins' own `fullName`: folder path segments joined by
 * '/', each segment the item name as Jenkins stores it (multibranch branch
 * jobs keep their URL-encoded name, e.g. `feature%2Fx`). Jenkins forbids '#'
 * in item names, so the last '#' separates the build part.
 */

const SEGMENT = /^[^/#\s][^/#]*$/;
const NUMBER = /^[1-9][0-9]{0,12}$/;

export function isFullName(value: string): boolean {
  if (value.length === 0 || value.length > 800) return false;
  return value.split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
}

/** `a/b/c` → `/job/a/job/b/job/c` (each segment URL-encoded, so `feature%2Fx` → `feature%252Fx`). */
export function jobPath(fullName: string): string {
  return fullName.split('/').map((s) => `/job/${encodeURIComponent(s)}`).join('');
}

export function formatPipelineId(fullName: string, number: number): string {
  return `${fullName}#${number}`;
}

export function formatQueueId(fullName: string, queueId: number): string {
  return `${fullName}#queue-${queueId}`;
}

export function formatStageJobId(fullName: string, number: number, stageId: string): string {
  return `${fullName}#${number}/stage/${stageId}`;
}

export function formatBuildJobId(fullName: string, number: number): string {
  return `${fullName}#${number}/build`;
}

export type PipelineRef =
  | { readonly kind: 'build'; readonly fullName: string; readonly number: number }
  | { readonly kind: 'queue'; readonly fullName: string; readonly queueId: number };

export function parsePipelineId(id: string): PipelineRef | null {
  const at = id.lastIndexOf('#');
  if (at <= 0) return null;
  const fullName = id.slice(0, at);
  const rest = id.slice(at + 1);
  if (!isFullName(fullName)) return null;
  if (NUMBER.test(rest)) return { kind: 'build', fullName, number: Number(rest) };
  const q = /^queue-([1-9][0-9]{0,15})$/.exec(rest);
  if (q) return { kind: 'queue', fullName, queueId: Number(q[1]) };
  return null;
}

export type JobRef =
  | { readonly kind: 'stage'; readonly fullName: string; readonly number: number; readonly stageId: string }
  | { readonly kind: 'build'; readonly fullName: string; readonly number: number };

export function parseJobId(id: string): JobRef | null {
  const at = id.lastIndexOf('#');
  if (at <= 0) return null;
  const fullName = id.slice(0, at);
  if (!isFullName(fullName)) return null;
  const m = /^([1-9][0-9]{0,12})\/(?:build|stage\/([A-Za-z0-9_-]{1,40}))$/.exec(id.slice(at + 1));
  if (!m) return null;
  const number = Number(m[1]);
  return m[2] === undefined ? { kind: 'build', fullName, number } : { kind: 'stage', fullName, number, stageId: m[2] };
}

export function pipelineIdOfJob(ref: JobRef): string {
  return formatPipelineId(ref.fullName, ref.number);
}

export function parseRunnerId(id: string): string | null {
  return id.length > 0 && id.length <= 400 ? id : null;
}

/**
 * Full name and optional build number from a Jenkins URL or URL path:
 * `https://ci/job/a/job/b/12/` or `job/a/job/b/12/` → { fullName: 'a/b', number: 12 }.
 * Jenkins may run under a context path (`/jenkins/job/...`): everything before
 * the first `job/` segment is ignored.
 */
export function refFromUrl(url: unknown): { fullName: string; number: number | null } | null {
  if (typeof url !== 'string' || url.length === 0) return null;
  let path = url;
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) path = new URL(url).pathname;
  } catch {
    return null;
  }
  const parts = path.split('?')[0]!.split('/').filter((p) => p.length > 0);
  const first = parts.indexOf('job');
  if (first < 0) return null;
  const names: string[] = [];
  let i = first;
  while (i < parts.length && parts[i] === 'job' && parts[i + 1] !== undefined) {
    let name: string;
    try {
      name = decodeURIComponent(parts[i + 1]!);
    } catch {
      return null;
    }
    names.push(name);
    i += 2;
  }
  if (names.length === 0) return null;
  const fullName = names.join('/');
  if (!isFullName(fullName)) return null;
  const next = parts[i];
  const number = next !== undefined && NUMBER.test(next) ? Number(next) : null;
  return { fullName, number };
}

/** Decodes a multibranch branch job's name (`feature%2Fx` → `feature/x`); the raw name when it is not valid encoding. */
export function decodeBranchName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
