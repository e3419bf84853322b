import type { z } from 'zod';
import { closestKey, keysAt } from './known-keys.ts';

const SECRET_KEY = /(token|secret|password|key|value)$/i;

/** `backends[0].token` style path. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function lookup(root: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** Describes a received value without ever printing something that may be a secret. */
function describeReceived(value: unknown, path: readonly (string | number)[]): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  const last = path[path.length - 1];
  const secretish = path.some((p) => typeof p === 'string' && SECRET_KEY.test(p)) || (typeof last === 'string' && SECRET_KEY.test(last));
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (secretish) return `a ${typeof value} (value hidden)`;
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/** One line per unknown key, with the documented key it most likely meant. */
function unknownKeys(key: string, keys: readonly string[], known: readonly string[]): string[] {
  const at = key === '(root)' ? '' : `${key}.`;
  return keys.map((k) => {
    const meant = closestKey(k, known);
    if (meant) return `${at}${k}: unknown key; did you mean "${meant}"?`;
    return `${at}${k}: unknown key; expected ${known.length > 0 ? `one of ${known.map((c) => `"${c}"`).join(', ')}` : 'only the documented keys'}`;
  });
}

/**
 * One line per issue: which key, what was expected, what was received. `schema` (the one that
 * produced `error`) lets an unknown key be answered with the documented key it most likely meant.
 */
export function formatZodIssues(error: z.ZodError, root: unknown, prefix: readonly (string | number)[] = [], schema?: z.ZodTypeAny): string[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    const key = formatPath(path) || '(root)';
    if (issue.code === 'unrecognized_keys') {
      return unknownKeys(key, issue.keys, schema ? keysAt(schema, issue.path) : []);
    }
    if (issue.code === 'invalid_union') {
      // Unions are secret references unless the schema says otherwise (a sink URL: a string or a reference).
      const expected = issue.message && issue.message !== 'Invalid input' ? issue.message : '{ env: NAME } or { value: "..." }';
      return `${key}: expected ${expected}, received ${describeReceived(lookup(root, path), path)}`;
    }
    const received = describeReceived(lookup(root, path), path);
    return `${key}: expected ${expectation(issue)}, received ${received}`;
  });
}

function expectation(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected;
    case 'invalid_enum_value':
    case 'invalid_union_discriminator':
      return `one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'too_small':
      return `${issue.type === 'array' ? 'at least' : issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}${issue.type === 'array' ? ' item(s)' : ''}`;
    case 'too_big':
      return `${issue.type === 'array' ? 'at most' : issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}${issue.type === 'array' ? ' item(s)' : ''}`;
    case 'invalid_string':
      return issue.message && issue.message !== 'Invalid' ? issue.message : `a valid ${String(issue.validation)}`;
    default:
      return issue.message;
  }
}
