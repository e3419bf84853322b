import type { ActionInputDeclaration, ActionInputValue } from '../adapter-contract.ts';

/** Why a trigger's inputs do not fit what the definition declares; `input` names the one at fault. */
export interface InputProblem {
  readonly input: string;
  readonly message: string;
}

function received(value: ActionInputValue): string {
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `the ${typeof value} ${String(value)}`;
}

/** What a declaration accepts, in words. */
function expectedOf(d: ActionInputDeclaration): string {
  switch (d.type) {
    case 'boolean':
      return 'a boolean (true or false)';
    case 'number':
      return 'a number';
    case 'choice':
      return `one of ${(d.options ?? []).map((o) => JSON.stringify(o)).join(', ')}`;
    case 'environment':
      return 'a string (an environment name)';
    case 'string':
      return 'a string';
  }
}

function fits(d: ActionInputDeclaration, value: ActionInputValue): boolean {
  switch (d.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'choice':
      return typeof value === 'string' && (d.options ?? []).includes(value);
    case 'string':
    case 'environment':
      return typeof value === 'string';
  }
}

/**
 * Pure: the first problem of `inputs` against `declared`, or null when they fit. An input the
 * definition does not declare, one of the wrong type (or outside a choice's options), and a
 * required one missing without a default are problems; each message says what was expected and
 * what was received.
 */
export function validateInputs(declared: readonly ActionInputDeclaration[], inputs: Readonly<Record<string, ActionInputValue>>): InputProblem | null {
  const byName = new Map(declared.map((d) => [d.name, d]));
  for (const [name, value] of Object.entries(inputs)) {
    const d = byName.get(name);
    if (!d) {
      const known = declared.map((x) => x.name);
      return { input: name, message: `input "${name}" is not declared: expected one of ${known.length > 0 ? known.map((n) => JSON.stringify(n)).join(', ') : '(none: the definition declares no inputs)'}, received ${received(value)}` };
    }
    if (!fits(d, value)) return { input: name, message: `input "${name}": expected ${expectedOf(d)}, received ${received(value)}` };
  }
  for (const d of declared) {
    const hasDefault = d.defaultValue !== undefined && d.defaultValue !== null && d.defaultValue !== '';
    if (d.required && !hasDefault && !Object.hasOwn(inputs, d.name)) {
      return { input: d.name, message: `input "${d.name}" is required: expected ${expectedOf(d)}, received nothing` };
    }
  }
  return null;
}
