/**
 * Block step fields (pure): what an unblock may carry, checked before the write as the other
 * providers check inputs (Jenkins input parameters, GitHub dispatch inputs).
 *
 * A block step declares `fields` of two kinds (Buildkite "Block step" docs): `text` and `select`
 * (`options: [{label, value}]`, `multiple`), each with a `key`, `required` (default **true**) and
 * an optional `default`. They are looked for where REST may show the step's definition: a `fields`
 * list on the job (`type: manual`), else the step of the same `key` in the build's embedded
 * `pipeline.steps` (steps defined in the pipeline's settings). Pipelines that upload their steps
 * (`buildkite-agent pipeline upload`) show them nowhere in REST: their inputs pass unchecked and
 * Buildkite judges them (a 422 naming a field → INVALID_INPUT).
 */
import type { ActionInputValue } from '../../src/adapter-contract.ts';
import { asRecord, str } from '../../src/adapter-kit/fields.ts';

export interface BlockField {
  readonly key: string;
  readonly kind: 'text' | 'select';
  readonly required: boolean;
  readonly options: readonly string[] | null;
  readonly multiple: boolean;
  readonly hasDefault: boolean;
}

/** The fields a block job declares; null when neither the job nor its build's pipeline says. */
export function blockFields(job: unknown, build?: unknown): BlockField[] | null {
  const j = asRecord(job);
  const key = str(j?.step_key) ?? str(j?.key);
  const steps = asRecord(asRecord(build)?.pipeline)?.steps;
  const step = key !== null && Array.isArray(steps) ? steps.map(asRecord).find((s) => s !== null && (str(s.key) ?? str(s.block_key)) === key) : undefined;
  // A job's `fields` that is not a list is what was submitted (the values), not the definitions.
  const raw = Array.isArray(j?.fields) ? j.fields : step?.fields;
  if (!Array.isArray(raw)) return null;
  return raw.flatMap((f): BlockField[] => {
    const r = asRecord(f);
    const key = str(r?.key);
    if (!r || !key) return [];
    const select = r.select !== undefined || Array.isArray(r.options);
    const options = Array.isArray(r.options)
      ? r.options.map((o) => str(asRecord(o)?.value) ?? str(o)).filter((v): v is string => v !== null)
      : null;
    return [{
      key,
      kind: select ? 'select' : 'text',
      required: r.required !== false,
      options: select ? (options ?? []) : null,
      multiple: r.multiple === true,
      hasDefault: r.default !== undefined && r.default !== null && r.default !== '',
    }];
  });
}

/** The string Buildkite takes for a field value (fields are strings; booleans `true`/`false`). */
export function fieldValue(value: ActionInputValue): string {
  return typeof value === 'string' ? value : String(value);
}

/** The first problem of `inputs` against `fields`, or null. */
export function checkFields(fields: readonly BlockField[], inputs: Readonly<Record<string, ActionInputValue>>): { input: string; why: string } | null {
  for (const name of Object.keys(inputs)) {
    if (!fields.some((f) => f.key === name)) {
      const known = fields.map((f) => f.key);
      return { input: name, why: `the block step has no field ${name}${known.length > 0 ? ` (it has ${known.join(', ')})` : ' (it has no fields)'}` };
    }
  }
  for (const f of fields) {
    const given = inputs[f.key];
    if (given === undefined || fieldValue(given) === '') {
      if (f.required && !f.hasDefault) return { input: f.key, why: `the block step's field ${f.key} is required` };
      continue;
    }
    if (f.kind === 'select' && f.options) {
      const chosen = f.multiple ? fieldValue(given).split(',').map((v) => v.trim()) : [fieldValue(given)];
      const bad = chosen.find((v) => !f.options!.includes(v));
      if (bad !== undefined) return { input: f.key, why: `${f.key} must be one of ${f.options.join(', ')}, got ${JSON.stringify(bad)}` };
    }
  }
  return null;
}
