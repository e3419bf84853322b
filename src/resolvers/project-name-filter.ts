import { compileScope, EMPTY_SCOPE, validateProjectPattern, type CompiledScope } from '../auth/scope.ts';
import { badInput } from '../errors.ts';

/** A pipeline's or job's project full name where the gateway knows it (the live state); undefined or null when not. */
export type ProjectNameOf = (backend: string, projectNativeId: string) => string | null | undefined;

/**
 * A filter's `projectNames`: full names or patterns in the syntax of API key scopes,
 * matched by the scope matcher itself (src/auth/scope.ts): each list is compiled as a
 * grant on every backend, and a project matches by its native id or its full name, as
 * a key scope does. Always case-insensitive (the schema says so, whatever
 * `auth.caseSensitive` says for keys). `scope` is that grant, for the history's own
 * name matching (src/history/project-scope.ts); an empty list matches nothing, as
 * `projects: []` does.
 */
export interface ProjectNameMatcher {
  readonly scope: Pick<CompiledScope, 'allowsEntity' | 'projectPatterns'>;
  matches(backend: string, projectNativeId: string, fullName: string | null | undefined): boolean;
}

export function compileProjectNames(names: readonly string[] | null | undefined, field: string): ProjectNameMatcher | null {
  if (!names) return null;
  for (const name of names) {
    const problem = validateProjectPattern(name);
    if (problem) throw badInput(`${field}: "${name}" is not a project name or pattern: expected ${problem}`);
  }
  const scope = names.length === 0 ? EMPTY_SCOPE : compileScope({ backends: ['*'], projects: names });
  return { scope, matches: (backend, projectNativeId, fullName) => scope.allowsProject(backend, [fullName, projectNativeId]) };
}
