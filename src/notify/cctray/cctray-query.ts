import { validateProjectPattern } from '../../auth/scope.ts';
import { CCTRAY_BUILD_STATUSES, type CctrayBuildStatus } from './cctray-status.ts';

/** What a `cc.xml` request asks for, once its query string is understood. */
export interface CctrayFilter {
  /** Backend names; null = every backend the caller may see. */
  readonly backends: readonly string[] | null;
  /** Project patterns (scope syntax, any may match); null = every project. */
  readonly projects: readonly string[] | null;
  /** 'default' = each project's default branch; 'all' = one entry per branch; else these branches. */
  readonly branches: 'default' | 'all' | readonly string[];
  /** Pipeline (workflow) names, exact; null = every pipeline. */
  readonly pipelines: readonly string[] | null;
  /** Only entries whose lastBuildStatus is one of these; null = all. */
  readonly statuses: readonly CctrayBuildStatus[] | null;
}

export const CCTRAY_PARAMETERS = ['backend', 'project', 'branch', 'pipeline', 'status'] as const;

/** A parameter the feed cannot serve: the message names the parameter and what it takes. */
export class CctrayQueryError extends Error {}

const MAX_VALUES = 100;
const MAX_VALUE_LENGTH = 256;

/** A repeatable parameter's values (`?backend=a&backend=b`); not comma lists: branch and workflow names may hold commas. */
function valuesOf(params: URLSearchParams, name: string): string[] | null {
  const values = params.getAll(name);
  if (values.length === 0) return null;
  if (values.some((v) => v.length === 0)) throw new CctrayQueryError(`parameter "${name}": expected non-empty values (received an empty one)`);
  if (values.length > MAX_VALUES) throw new CctrayQueryError(`parameter "${name}": expected at most ${MAX_VALUES} values (received ${values.length})`);
  const long = values.find((v) => v.length > MAX_VALUE_LENGTH);
  if (long !== undefined) throw new CctrayQueryError(`parameter "${name}": expected values of at most ${MAX_VALUE_LENGTH} characters`);
  return [...new Set(values)];
}

function statusOf(value: string): CctrayBuildStatus {
  const found = CCTRAY_BUILD_STATUSES.find((s) => s.toLowerCase() === value.toLowerCase());
  if (!found) throw new CctrayQueryError(`parameter "status": expected one of ${CCTRAY_BUILD_STATUSES.join(', ')} (received ${JSON.stringify(value.slice(0, 40))})`);
  return found;
}

/**
 * Reads the query string of `/cc.xml`. `knownBackend` says whether the caller may name a
 * backend: an unknown one and one outside the caller's scope get the same answer, so the
 * error tells nothing about backends the caller may not see.
 */
export function parseCctrayQuery(params: URLSearchParams, knownBackend: (name: string) => boolean): CctrayFilter {
  const unknown = [...new Set(params.keys())].filter((k) => !(CCTRAY_PARAMETERS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new CctrayQueryError(`unknown parameter ${JSON.stringify(unknown[0]!.slice(0, 40))}: expected ${CCTRAY_PARAMETERS.join(', ')}`);
  }
  const backends = valuesOf(params, 'backend');
  const stranger = backends?.find((b) => !knownBackend(b));
  if (stranger !== undefined) throw new CctrayQueryError(`parameter "backend": no backend named ${JSON.stringify(stranger.slice(0, 40))}`);
  const projects = valuesOf(params, 'project');
  for (const p of projects ?? []) {
    const problem = validateProjectPattern(p);
    if (problem) throw new CctrayQueryError(`parameter "project": expected ${problem} (received ${JSON.stringify(p.slice(0, 40))})`);
  }
  const branchValues = valuesOf(params, 'branch');
  if (branchValues?.includes('*') && branchValues.length > 1) throw new CctrayQueryError('parameter "branch": "*" (every branch) cannot be combined with branch names');
  const branches = branchValues === null ? 'default' : branchValues[0] === '*' ? 'all' : branchValues;
  const statuses = valuesOf(params, 'status')?.map(statusOf) ?? null;
  return { backends, projects, branches, pipelines: valuesOf(params, 'pipeline'), statuses };
}
