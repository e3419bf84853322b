import { formatPath } from './format-issues.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every `{ env: NAME }` secret reference in a raw config, with where it is. */
function* envReferences(value: unknown, path: (string | number)[] = []): Generator<{ path: (string | number)[]; name: string }> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* envReferences(item, [...path, i]);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === 'env' && typeof entries[0]![1] === 'string') {
    yield { path, name: entries[0]![1] };
    return;
  }
  for (const [key, child] of entries) yield* envReferences(child, [...path, key]);
}

/**
 * One line per secret reference whose environment variable is unset or empty: found in one pass
 * at load, instead of at the first component that happens to read it. (A malformed name is the
 * schema's to report.)
 */
export function missingSecrets(raw: unknown, env: NodeJS.ProcessEnv): string[] {
  const issues: string[] = [];
  for (const { path, name } of envReferences(raw)) {
    if (!ENV_NAME.test(name)) continue;
    const value = env[name];
    if (value === undefined || value === '') {
      issues.push(`${formatPath(path)}: expected the environment variable ${name} to be set, received ${value === undefined ? 'nothing (it is not set)' : 'an empty value'}`);
    }
  }
  return issues;
}
