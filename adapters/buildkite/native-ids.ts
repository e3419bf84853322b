/**
 * Native id formats of the Buildkite adapter (opaque to the core):
 *
 *   Project   <pipeline slug>                          web, deploy-api
 *   Pipeline  <slug>/<build number>                    web/42
 *   Job       <slug>/<build number>/<job uuid>         web/42/0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a59
 *   Runner    <agent uuid>                             0190f3b4-...
 *
 * REST paths address builds by number, not UUID (reference §6.6), so the
 * build number is what the id carries. Slugs are lower-case `[a-z0-9-]`,
 * which never contains '/', so '/' separates the parts unambiguously.
 */

const SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const NUMBER = /^[1-9][0-9]{0,12}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface BuildRef {
  readonly slug: string;
  readonly number: number;
}

export interface JobRef extends BuildRef {
  readonly jobId: string;
}

export function isSlug(value: string): boolean {
  return SLUG.test(value);
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function formatProjectId(slug: string): string {
  return slug;
}

export function parseProjectId(id: string): string | null {
  return SLUG.test(id) ? id : null;
}

export function formatPipelineId(slug: string, number: number): string {
  return `${slug}/${number}`;
}

export function parsePipelineId(id: string): BuildRef | null {
  const parts = id.split('/');
  if (parts.length !== 2) return null;
  const [slug, num] = parts as [string, string];
  if (!SLUG.test(slug) || !NUMBER.test(num)) return null;
  return { slug, number: Number(num) };
}

export function formatJobId(slug: string, number: number, jobId: string): string {
  return `${slug}/${number}/${jobId}`;
}

export function parseJobId(id: string): JobRef | null {
  const parts = id.split('/');
  if (parts.length !== 3) return null;
  const [slug, num, jobId] = parts as [string, string, string];
  if (!SLUG.test(slug) || !NUMBER.test(num) || !UUID.test(jobId)) return null;
  return { slug, number: Number(num), jobId };
}

export function pipelineIdOfJob(ref: JobRef): string {
  return formatPipelineId(ref.slug, ref.number);
}

export function formatRunnerId(agentId: string): string {
  return agentId;
}

export function parseRunnerId(id: string): string | null {
  return UUID.test(id) ? id : null;
}
