import { asRecord, nonEmpty, str } from '../../src/adapter-kit/fields.ts';

export { asRecord, bool, int, loose, nonEmpty, str, type Loose } from '../../src/adapter-kit/fields.ts';

/** A Buildkite object without the field its native id needs: the payload is unusable. */
export class BuildkitePayloadError extends Error {
  constructor(what: string, field: string) {
    super(`Buildkite ${what} without ${field}`);
    this.name = 'BuildkitePayloadError';
  }
}

/**
 * Milliseconds of a Buildkite timestamp, or null. REST uses ISO 8601 with ms
 * (`2015-05-09T21:05:59.874Z`); embedded fields and EventBridge use
 * `2013-09-03 13:24:38 UTC` (reference §6.10): both are read.
 */
export function parseTimeMs(value: unknown): number | null {
  const text = str(value);
  if (!text) return null;
  const utc = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) UTC$/.exec(text.trim());
  const ms = Date.parse(utc ? `${utc[1]}T${utc[2]}Z` : text);
  return Number.isFinite(ms) ? ms : null;
}

export function isoTime(value: unknown): string | null {
  const ms = parseTimeMs(value);
  return ms === null ? null : new Date(ms).toISOString();
}

/** The newest of the given timestamps in ms (0 when none is usable). */
export function latestMs(...values: unknown[]): number {
  let max = 0;
  for (const v of values) {
    const ms = parseTimeMs(v);
    if (ms !== null && ms > max) max = ms;
  }
  return max;
}

/**
 * The pipeline slug of a build: `pipeline.slug` when the payload carries the
 * pipeline, else the API `url` (`…/pipelines/<slug>/builds/<n>`), else the
 * web URL (`https://buildkite.com/<org>/<slug>/builds/<n>`). Lets lists use
 * `exclude_pipeline=true`.
 */
export function slugOfBuild(build: unknown, pipeline?: unknown): string | null {
  const b = asRecord(build);
  const fromPipeline = nonEmpty(asRecord(pipeline)?.slug) ?? nonEmpty(asRecord(b?.pipeline)?.slug);
  if (fromPipeline) return fromPipeline;
  const api = /\/pipelines\/([^/?#]+)\/builds\/\d+/.exec(str(b?.url) ?? '');
  if (api) return api[1]!;
  const web = /^https?:\/\/[^/]+\/[^/]+\/([^/?#]+)\/builds\/\d+/.exec(str(b?.web_url) ?? '');
  return web ? web[1]! : null;
}

/** `{slug, number}` of the build a job belongs to, from its `build_url` or `web_url` (agents' current job). */
export function buildRefOfJobUrls(job: unknown): { slug: string; number: number } | null {
  const j = asRecord(job);
  const api = /\/pipelines\/([^/?#]+)\/builds\/(\d+)/.exec(str(j?.build_url) ?? '');
  if (api) return { slug: api[1]!, number: Number(api[2]) };
  const web = /^https?:\/\/[^/]+\/[^/]+\/([^/?#]+)\/builds\/(\d+)/.exec(str(j?.web_url) ?? '');
  return web ? { slug: web[1]!, number: Number(web[2]) } : null;
}

/** `key=value` strings (agent meta_data, job agent_query_rules); anything else dropped. */
export function tagList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string' && t.length > 0) : [];
}
