/**
 * Pure parts of a GitHub trigger: encoding typed inputs for `workflow_dispatch`, and reading the
 * inputs a workflow file declares (`on.workflow_dispatch.inputs`).
 */
import { parse } from 'yaml';
import type { ActionInputDeclaration, ActionInputValue } from '../../src/adapter-contract.ts';

/**
 * GitHub's dispatch API takes every input value as a string (a JSON boolean or number is refused:
 * "For 'properties/x', true is not a string."); the workflow converts booleans ("true"/"false")
 * and numbers back by the declared type. Null for a value that has no string form (NaN, ±Infinity).
 */
export function encodeDispatchInput(value: ActionInputValue): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return Number.isFinite(value) ? String(value) : null;
}

const TYPES: ReadonlySet<ActionInputDeclaration['type']> = new Set(['string', 'boolean', 'number', 'choice', 'environment']);

/** The `on:` block may be a string, a list of event names or a map of them. */
function dispatchBlock(on: unknown): { found: boolean; inputs: unknown } {
  if (on === 'workflow_dispatch') return { found: true, inputs: null };
  if (Array.isArray(on)) return { found: on.includes('workflow_dispatch'), inputs: null };
  if (on !== null && typeof on === 'object' && Object.hasOwn(on, 'workflow_dispatch')) {
    const block = (on as Record<string, unknown>).workflow_dispatch;
    return { found: true, inputs: block !== null && typeof block === 'object' ? (block as Record<string, unknown>).inputs : null };
  }
  return { found: false, inputs: null };
}

function defaultOf(type: ActionInputDeclaration['type'], raw: unknown): ActionInputValue | null {
  if (raw === undefined || raw === null) return null;
  if (type === 'boolean') return raw === true || raw === 'true' ? true : raw === false || raw === 'false' ? false : null;
  if (type === 'number') {
    const n = typeof raw === 'number' ? raw : Number(raw);
    return Number.isFinite(n) ? n : null;
  }
  return typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : null;
}

/**
 * The dispatch inputs a workflow file declares, in file order. Null when the text is not a YAML
 * mapping or the workflow has no `workflow_dispatch` trigger (then nothing can be checked before
 * GitHub answers). A `workflow_dispatch` without inputs declares none ([]).
 */
export function parseDispatchInputs(text: string): ActionInputDeclaration[] | null {
  let doc: unknown;
  try {
    // Silent: a workflow file is the repository's input, not ours to warn about on the gateway's stderr.
    doc = parse(text, { logLevel: 'silent' });
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
  const { found, inputs } = dispatchBlock((doc as Record<string, unknown>).on);
  if (!found) return null;
  if (inputs === null || inputs === undefined) return [];
  if (typeof inputs !== 'object' || Array.isArray(inputs)) return null;
  const out: ActionInputDeclaration[] = [];
  for (const [name, raw] of Object.entries(inputs as Record<string, unknown>)) {
    const d = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const type = typeof d.type === 'string' && TYPES.has(d.type as ActionInputDeclaration['type']) ? (d.type as ActionInputDeclaration['type']) : 'string';
    const options = type === 'choice' && Array.isArray(d.options) ? d.options.map((o) => String(o)) : undefined;
    out.push({
      name,
      type,
      required: d.required === true || d.required === 'true',
      ...(options ? { options } : {}),
      defaultValue: defaultOf(type, d.default),
      description: typeof d.description === 'string' ? d.description : null,
    });
  }
  return out;
}
