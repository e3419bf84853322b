import { z } from 'zod';

/** Strips wrappers that do not change an object's keys (defaults, optionals, refinements, transforms). */
function unwrap(schema: z.ZodTypeAny): z.ZodTypeAny {
  for (;;) {
    if (schema instanceof z.ZodDefault) schema = schema._def.innerType as z.ZodTypeAny;
    else if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schema = schema.unwrap() as z.ZodTypeAny;
    else if (schema instanceof z.ZodEffects) schema = schema.innerType() as z.ZodTypeAny;
    else if (schema instanceof z.ZodLazy) schema = schema.schema as z.ZodTypeAny;
    else if (schema instanceof z.ZodPipeline) schema = schema._def.in as z.ZodTypeAny;
    else return schema;
  }
}

/** The object schemas found at `path` (several where a union allows different shapes). */
function objectsAt(schema: z.ZodTypeAny, path: readonly (string | number)[]): z.AnyZodObject[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodUnion || s instanceof z.ZodDiscriminatedUnion) {
    return (s.options as z.ZodTypeAny[]).flatMap((option) => objectsAt(option, path));
  }
  if (path.length === 0) return s instanceof z.ZodObject ? [s] : [];
  const [head, ...rest] = path;
  if (s instanceof z.ZodObject && typeof head === 'string') {
    const child = (s.shape as Record<string, z.ZodTypeAny>)[head];
    return child ? objectsAt(child, rest) : [];
  }
  if (s instanceof z.ZodArray && typeof head === 'number') return objectsAt(s.element as z.ZodTypeAny, rest);
  if (s instanceof z.ZodRecord) return objectsAt(s.valueSchema as z.ZodTypeAny, rest);
  return [];
}

/** The keys an object at `path` of `schema` may have. */
export function keysAt(schema: z.ZodTypeAny, path: readonly (string | number)[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((o) => Object.keys(o.shape as object)))];
}

/** Edits between two keys, a swap of neighbours counting as one (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key closest to a mistyped one, if it is close enough to be what was meant (case ignored). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || d < best.d)) best = { key: candidate, d };
  }
  return best?.key;
}
