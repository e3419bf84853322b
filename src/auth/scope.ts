import type { ActionPermission } from '../adapter-contract.ts';
import type { EntityType } from '../model.ts';
import type { Identity } from './types.ts';

/**
 * Authorization scopes.
 *
 * A credential carries one or more grants; it may see whatever ANY of its
 * grants allows (union). A grant
 *
 *   { backends: ['github-main', 'jenkins'], projects: ['octo-org/*', 'team-a/**'], runners: false }
 *
 * names backends (`'*'` = every configured backend) and, optionally, project
 * patterns. Patterns are matched against a project's `fullName` and its native
 * id (for pipelines and jobs: the native id of their project, plus its full
 * name when the caller knows it). No `projects` = every project of those
 * backends.
 *
 * Pattern syntax (matched segment by segment, `/` separates segments):
 *   - a literal segment matches itself (case-insensitively by default: GitHub
 *     names are case-insensitive and its native ids are lower-cased);
 *   - `*` inside a segment matches any run of characters except `/`
 *     (`octo-org/*` = the repositories of octo-org, not deeper; `svc-*`);
 *   - a whole `**` segment matches any number of segments: `team-a/**` =
 *     everything below team-a at any depth (but not `team-a` itself), a
 *     leading or middle `**` also matches zero segments, and `**` alone
 *     matches every project.
 * No other character is special: there are no regular expressions, so a
 * pattern cannot be used to inject one, and matching is O(pattern x name).
 *
 * Runners are shared infrastructure, not owned by one project: a grant sees
 * its backends' runners when it has no project restriction, or when it says
 * `runners: true`. `runners: false` hides them even from an unrestricted grant.
 */
export interface ScopeGrant {
  readonly backends: readonly string[];
  readonly projects?: readonly string[] | undefined;
  readonly runners?: boolean | undefined;
  /**
   * Actions (issue 15) this grant allows on its backends and projects: `cancel`, `retry`,
   * `trigger`, `approve`, or `'*'` for all. None by default: a grant is read-only.
   */
  readonly actions?: readonly ActionGrant[] | undefined;
}

/** What `ScopeGrant.actions` lists: a permission, or `'*'` for every one. */
export type ActionGrant = ActionPermission | '*';
export const ACTION_PERMISSIONS: readonly ActionPermission[] = ['cancel', 'retry', 'trigger', 'approve'];

/** The fields of a model entity (src/model.ts) that authorization looks at. */
export interface ScopeEntity {
  readonly type: EntityType;
  readonly backend: string;
  readonly nativeId: string;
  /** Project: its full name. */
  readonly fullName?: string | null;
  /** Pipeline / Job: the native id of their project. */
  readonly projectNativeId?: string | null;
  /** Pipeline / Job: the full name of their project, when known (e.g. when native ids are numeric). */
  readonly projectFullName?: string | null;
}

export interface CompiledScope {
  /** True when every backend, project and runner is visible (open mode, `backends: ['*']` without projects). */
  readonly unrestricted: boolean;
  /** The grants as configured, for audit records and error messages. */
  readonly grants: readonly ScopeGrant[];
  allowsBackend(backend: string): boolean;
  /** `project` is a full name or native id, or several names of one project (any may match). */
  allowsProject(backend: string, project: string | readonly (string | null | undefined)[]): boolean;
  allowsRunners(backend: string): boolean;
  allowsEntity(entity: ScopeEntity): boolean;
  /**
   * For pushing filters down to list queries: null = all projects of the
   * backend, [] = none (backend not granted), else the patterns (any may match).
   */
  projectPatterns(backend: string): readonly string[] | null;
  /**
   * Whether a grant allows `permission` on `backend` for the project named by any of `projectNames`
   * (its native id and full name). The same backend and project matching as reads.
   */
  allowsAction(permission: ActionPermission, backend: string, projectNames: readonly (string | null | undefined)[]): boolean;
  /**
   * Whether any grant allows `permission` on `backend` at all, and whether one allows it on every
   * project there (`all`), so a refusal needs no read of the target.
   */
  actionReach(permission: ActionPermission, backend: string): 'none' | 'some' | 'all';
  /** One-line summary, e.g. `github-main:[octo-org/*] jenkins:*`. */
  describe(): string;
  /** Canonical form of the grants and options: scopes with equal keys allow exactly the same entities. */
  readonly key: string;
}

export interface ScopeOptions {
  /** Default false: names are compared case-insensitively (see above). */
  readonly caseSensitive?: boolean;
}

/** Longest project name or pattern considered; longer candidates never match. */
export const MAX_PROJECT_NAME_LENGTH = 1024;
export const MAX_PATTERN_LENGTH = 256;

/** Why a pattern is not valid, or null. */
export function validateProjectPattern(pattern: string): string | null {
  if (typeof pattern !== 'string' || pattern.length === 0) return 'a non-empty pattern';
  if (pattern.length > MAX_PATTERN_LENGTH) return `a pattern of at most ${MAX_PATTERN_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'a pattern without control characters';
  const segments = pattern.split('/');
  for (const seg of segments) {
    if (seg.length === 0) return 'a pattern without empty segments (no leading, trailing or double "/")';
    if (seg.includes('**') && seg !== '**') return 'a pattern where "**" is a whole segment (like "org/**")';
  }
  return null;
}

type SegmentMatcher = string | { readonly glob: string } | '**';

interface CompiledPattern {
  readonly source: string;
  readonly segments: readonly SegmentMatcher[];
}

function compilePattern(pattern: string, caseSensitive: boolean): CompiledPattern {
  const problem = validateProjectPattern(pattern);
  if (problem) throw new Error(`invalid project pattern: expected ${problem}`);
  const norm = caseSensitive ? pattern : pattern.toLowerCase();
  const segments = norm.split('/').map<SegmentMatcher>((s) => (s === '**' ? '**' : s.includes('*') ? { glob: s } : s));
  return { source: pattern, segments };
}

/** `*` matches any run of characters within one segment; linear-time two-pointer wildcard match. */
function matchSegmentGlob(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] !== '*' && glob[g] === text[t]) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      starG = g++;
      starT = t;
    } else if (starG >= 0) {
      g = starG + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

function matchSegment(m: SegmentMatcher, text: string): boolean {
  return typeof m === 'string' ? m === text : matchSegmentGlob(m.glob, text);
}

/** Dynamic programming over (pattern segment, name segment): no backtracking blow-up. */
function matchCompiled(p: CompiledPattern, name: string): boolean {
  const pat = p.segments;
  const parts = name.split('/');
  const P = pat.length;
  const N = parts.length;
  // next[j] = pattern[i+1..] matches parts[j..]; cur[j] = pattern[i..] matches parts[j..].
  let next: boolean[] = new Array<boolean>(N + 1).fill(false);
  next[N] = true;
  for (let i = P - 1; i >= 0; i--) {
    const seg = pat[i]!;
    const cur: boolean[] = new Array<boolean>(N + 1).fill(false);
    for (let j = N; j >= 0; j--) {
      if (seg === '**') {
        // A trailing `**` after other segments means "something below": at least one segment.
        const atLeastOne = i === P - 1 && P > 1;
        cur[j] = atLeastOne ? j < N : next[j]! || (j < N && cur[j + 1]!);
      } else {
        cur[j] = j < N && next[j + 1]! && matchSegment(seg, parts[j]!);
      }
    }
    next = cur;
  }
  return next[0]!;
}

/**
 * Matches one project name against one pattern. Never throws: an invalid
 * pattern or a non-string / oversized name simply does not match.
 */
export function matchProjectPattern(pattern: string, name: string, options: ScopeOptions = {}): boolean {
  if (typeof name !== 'string' || typeof pattern !== 'string' || name.length > MAX_PROJECT_NAME_LENGTH) return false;
  if (validateProjectPattern(pattern) !== null) return false;
  const caseSensitive = options.caseSensitive ?? false;
  return matchCompiled(compilePattern(pattern, caseSensitive), caseSensitive ? name : name.toLowerCase());
}

interface CompiledGrant {
  readonly allBackends: boolean;
  readonly backends: ReadonlySet<string>;
  /** null = every project. */
  readonly projects: readonly CompiledPattern[] | null;
  readonly runners: boolean;
  readonly actions: ReadonlySet<ActionPermission>;
}

function compileGrant(grant: ScopeGrant, caseSensitive: boolean): CompiledGrant {
  const projects = grant.projects && grant.projects.length > 0 ? grant.projects.map((p) => compilePattern(p, caseSensitive)) : null;
  return {
    allBackends: grant.backends.includes('*'),
    backends: new Set(grant.backends),
    projects,
    runners: grant.runners ?? projects === null,
    actions: new Set((grant.actions ?? []).flatMap((a) => (a === '*' ? ACTION_PERMISSIONS : [a]))),
  };
}

function grantCoversBackend(g: CompiledGrant, backend: string): boolean {
  return g.allBackends || g.backends.has(backend);
}

/**
 * Compiles grants (one grant or a list) into fast predicates. Throws on an
 * invalid pattern: config validation (auth-config.ts) rejects those first.
 */
export function compileScope(grants: ScopeGrant | readonly ScopeGrant[], options: ScopeOptions = {}): CompiledScope {
  const caseSensitive = options.caseSensitive ?? false;
  const list: readonly ScopeGrant[] = Array.isArray(grants) ? grants : [grants as ScopeGrant];
  const compiled = list.map((g) => compileGrant(g, caseSensitive));
  const unrestricted = compiled.some((g) => g.allBackends && g.projects === null && g.runners);
  const norm = (s: string): string => (caseSensitive ? s : s.toLowerCase());

  const allowsBackend = (backend: string): boolean => typeof backend === 'string' && compiled.some((g) => grantCoversBackend(g, backend));

  const allowsProject = (backend: string, project: string | readonly (string | null | undefined)[]): boolean => {
    if (typeof backend !== 'string') return false;
    const names = (typeof project === 'string' ? [project] : Array.isArray(project) ? project : [])
      .filter((n): n is string => typeof n === 'string' && n.length > 0 && n.length <= MAX_PROJECT_NAME_LENGTH)
      .map(norm);
    return compiled.some((g) => {
      if (!grantCoversBackend(g, backend)) return false;
      if (g.projects === null) return true;
      return names.some((n) => g.projects!.some((p) => matchCompiled(p, n)));
    });
  };

  const allowsRunners = (backend: string): boolean => compiled.some((g) => grantCoversBackend(g, backend) && g.runners);

  const allowsEntity = (entity: ScopeEntity): boolean => {
    if (entity === null || typeof entity !== 'object') return false;
    switch (entity.type) {
      case 'Backend':
        return allowsBackend(entity.backend);
      case 'Project':
        return allowsProject(entity.backend, [entity.fullName, entity.nativeId]);
      case 'Pipeline':
      case 'Job':
        // Without its project we cannot tell: only project-unrestricted grants allow it.
        return allowsProject(entity.backend, [entity.projectFullName, entity.projectNativeId]);
      case 'Runner':
        return allowsRunners(entity.backend);
      default:
        return false;
    }
  };

  const projectPatterns = (backend: string): readonly string[] | null => {
    const patterns: string[] = [];
    for (const g of compiled) {
      if (!grantCoversBackend(g, backend)) continue;
      if (g.projects === null) return null;
      for (const p of g.projects) patterns.push(p.source);
    }
    return patterns;
  };

  const allowsAction = (permission: ActionPermission, backend: string, projectNames: readonly (string | null | undefined)[]): boolean => {
    if (typeof backend !== 'string') return false;
    const names = projectNames.filter((n): n is string => typeof n === 'string' && n.length > 0 && n.length <= MAX_PROJECT_NAME_LENGTH).map(norm);
    return compiled.some((g) => g.actions.has(permission) && grantCoversBackend(g, backend)
      && (g.projects === null || names.some((n) => g.projects!.some((p) => matchCompiled(p, n)))));
  };

  const actionReach = (permission: ActionPermission, backend: string): 'none' | 'some' | 'all' => {
    const granting = compiled.filter((g) => g.actions.has(permission) && grantCoversBackend(g, backend));
    return granting.length === 0 ? 'none' : granting.some((g) => g.projects === null) ? 'all' : 'some';
  };

  const describe = (): string =>
    list
      .map((g) => `${g.backends.join(',')}:${g.projects && g.projects.length > 0 ? `[${g.projects.join(',')}]` : '*'}${g.runners === undefined ? '' : g.runners ? '+runners' : '-runners'}${g.actions && g.actions.length > 0 ? `+actions(${g.actions.join(',')})` : ''}`)
      .join(' ') || '(nothing)';

  const key = JSON.stringify({ caseSensitive, grants: list.map((g) => [g.backends, g.projects ?? null, g.runners ?? null, ...(g.actions && g.actions.length > 0 ? [g.actions] : [])]) });

  return Object.freeze({ unrestricted, grants: list, allowsBackend, allowsProject, allowsRunners, allowsEntity, allowsAction, actionReach, projectPatterns, describe, key });
}

/** Everything: open mode's anonymous identity. */
export const ALL_SCOPE: CompiledScope = compileScope({ backends: ['*'] });
/** Nothing at all. */
export const EMPTY_SCOPE: CompiledScope = compileScope([]);

/**
 * True when a live connection of this identity must end now: the credential
 * expired (`expiresAt <= now`) or was revoked. The one check behind the
 * credential watcher (src/auth/credential-watcher.ts) and per-event delivery.
 */
export function isRevokedOrExpired(identity: Identity, now: Date = new Date()): boolean {
  if (identity.expiresAt !== null && identity.expiresAt.getTime() <= now.getTime()) return true;
  try {
    return identity.isRevoked?.() === true;
  } catch {
    return true; // fail closed
  }
}
