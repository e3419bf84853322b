import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActionInputDeclaration, ActionInputValue } from '../../src/adapter-contract.ts';
import { validateInputs } from '../../src/actions/validate-inputs.ts';

/** Trigger inputs against declarations (issue 15 item 3): a pure function, checked by properties. */
const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
const value: fc.Arbitrary<ActionInputValue> = fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }));
const declaration: fc.Arbitrary<ActionInputDeclaration> = fc.record({
  name,
  type: fc.constantFrom('string', 'boolean', 'number', 'choice', 'environment' as const),
  required: fc.boolean(),
  options: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
});
const declarations = fc.uniqueArray(declaration, { selector: (d) => d.name, maxLength: 6 });

/** A value each declaration accepts. */
function fitting(d: ActionInputDeclaration): fc.Arbitrary<ActionInputValue> {
  switch (d.type) {
    case 'boolean': return fc.boolean();
    case 'number': return fc.integer();
    case 'choice': return fc.constantFrom(...d.options!);
    default: return fc.string({ maxLength: 8 });
  }
}

describe('validateInputs', () => {
  it('should accept every input set that fits its declarations (each required one given)', () => {
    fc.assert(fc.property(declarations.chain((ds) => fc.tuple(fc.constant(ds), fc.tuple(...ds.map((d) => fc.tuple(fc.constant(d), fitting(d), fc.boolean()))))), ([ds, picks]) => {
      const inputs = Object.fromEntries(picks.filter(([d, , give]) => give || d.required).map(([d, v]) => [d.name, v]));
      expect(validateInputs(ds, inputs)).toBeNull();
    }));
  });

  it('should name an undeclared input, saying what was expected and received', () => {
    fc.assert(fc.property(declarations, name, value, (ds, extra, v) => {
      fc.pre(!ds.some((d) => d.name === extra));
      const problem = validateInputs(ds.map((d) => ({ ...d, required: false })), { [extra]: v });
      expect(problem?.input).toBe(extra);
      expect(problem?.message).toMatch(/is not declared: expected .*, received /);
    }));
  });

  it('should name an input of the wrong type, or outside its choices', () => {
    fc.assert(fc.property(declaration, value, (d, v) => {
      const fits = d.type === 'boolean' ? typeof v === 'boolean' : d.type === 'number' ? typeof v === 'number'
        : d.type === 'choice' ? typeof v === 'string' && d.options!.includes(v) : typeof v === 'string';
      const problem = validateInputs([d], { [d.name]: v });
      if (fits) expect(problem).toBeNull();
      else expect(problem).toEqual({ input: d.name, message: expect.stringMatching(new RegExp(`^input "${d.name}": expected .+, received the `)) });
    }));
  });

  it('should name a required input that is missing and has no default', () => {
    fc.assert(fc.property(declaration, fc.boolean(), (d, withDefault) => {
      const problem = validateInputs([{ ...d, required: true, ...(withDefault ? { defaultValue: 'x' } : {}) }], {});
      if (withDefault) expect(problem).toBeNull();
      else expect(problem).toEqual({ input: d.name, message: expect.stringContaining('is required: expected') });
    }));
    expect(validateInputs([{ name: 'env', type: 'choice', required: true, options: ['dev', 'prod'] }], {})).toEqual({ input: 'env', message: 'input "env" is required: expected one of "dev", "prod", received nothing' });
    expect(validateInputs([{ name: 'n', type: 'number', required: false }], { n: 'three' })).toEqual({ input: 'n', message: 'input "n": expected a number, received the string "three"' });
  });
});
