import type { ActionInputDeclaration, ActionInputValue, PipelineInputModel } from '../../src/adapter-contract.ts';
import { asRecord, records, shortClass, str, type Loose } from './fields.ts';
import { tree, branch } from './tree.ts';

/**
 * Pure mappings between Jenkins parameters and the actions contract:
 * - a job's ParametersDefinitionProperty → ActionInputDeclaration (for validating a trigger);
 * - a build's ParametersAction → PipelineInputModel (Pipeline.inputs, and the values a retry replays);
 * - caller inputs → the form buildWithParameters and an input's `json` field take.
 */

/** `property[parameterDefinitions[...]]` of a job. */
export const JOB_PARAMETERS_TREE = tree(
  '_class',
  branch('property', ['_class', branch('parameterDefinitions', ['_class', 'name', 'type', 'description', 'choices', branch('defaultParameterValue', ['value'])])]),
);

/** A build's state and its ParametersAction. */
export const BUILD_PARAMETERS_TREE = tree('_class', 'building', 'result', branch('actions', ['_class', branch('parameters', ['_class', 'name', 'value'])]));

/** The Jenkins `type` (ParameterDefinition.getType(), the class's simple name) → the contract's input type. */
const TYPE_MAP: Readonly<Record<string, ActionInputDeclaration['type']>> = {
  StringParameterDefinition: 'string',
  TextParameterDefinition: 'string',
  PasswordParameterDefinition: 'string',
  BooleanParameterDefinition: 'boolean',
  ChoiceParameterDefinition: 'choice',
};

/** The parameter definitions of a job answer; [] for a job without parameters. */
export function parameterDefinitions(job: unknown): Loose[] {
  const props = records(asRecord(job)?.property);
  return props.flatMap((p) => records(p.parameterDefinitions));
}

/**
 * Declarations of a job's parameters. Jenkins gives every parameter a default, so none is
 * required. Types the contract has no name for (file, run, credentials, plugins' own) are
 * declared `string` (what buildWithParameters takes for them).
 */
export function toDeclarations(job: unknown): ActionInputDeclaration[] {
  return parameterDefinitions(job).flatMap((d): ActionInputDeclaration[] => {
    const name = str(d.name);
    if (!name) return [];
    const jenkinsType = str(d.type) ?? shortClass(d._class) ?? '';
    const type = TYPE_MAP[jenkinsType] ?? 'string';
    const rawDefault = asRecord(d.defaultParameterValue)?.value;
    const options = Array.isArray(d.choices) ? d.choices.filter((c): c is string => typeof c === 'string') : undefined;
    const defaultValue = scalar(rawDefault) ?? (type === 'choice' ? (options?.[0] ?? null) : null);
    return [{
      name,
      type,
      required: false,
      ...(type === 'choice' ? { options: options ?? [] } : {}),
      defaultValue,
      description: str(d.description) ?? null,
    }];
  });
}

/** The ParametersAction values of a build (or queue item); null when it has none (a job without parameters). */
export function buildParameters(build: unknown): PipelineInputModel[] | null {
  const actions = records(asRecord(build)?.actions).filter((a) => Array.isArray(a.parameters));
  if (actions.length === 0) return null;
  const out: PipelineInputModel[] = [];
  for (const p of actions.flatMap((a) => records(a.parameters))) {
    const name = str(p.name);
    const value = scalar(p.value);
    // A password's value is a Secret Jenkins does not export: it is left out, never shown as empty.
    if (name && value !== null) out.push({ name, value: String(value) });
  }
  return out;
}

/** The form buildWithParameters takes: one field per parameter, booleans as `true`/`false`. */
export function parametersForm(inputs: Readonly<Record<string, ActionInputValue>>): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(inputs)) form.append(name, String(value));
  return form;
}

/** The `json` field of an input submission: `{"parameter":[{"name":…,"value":…}]}`. */
export function inputJson(inputs: Readonly<Record<string, ActionInputValue>>): string {
  return JSON.stringify({ parameter: Object.entries(inputs).map(([name, value]) => ({ name, value })) });
}

/** Problems of trigger inputs against the job's declarations: the first bad input's name and why, or null. */
export function checkInputs(declared: readonly ActionInputDeclaration[], inputs: Readonly<Record<string, ActionInputValue>>): { input: string; why: string } | null {
  for (const [name, value] of Object.entries(inputs)) {
    const d = declared.find((x) => x.name === name);
    if (!d) return { input: name, why: `the job declares no parameter ${name} (Jenkins would drop it)` };
    if (d.type === 'boolean' && typeof value !== 'boolean' && value !== 'true' && value !== 'false') {
      return { input: name, why: `${name} is a boolean parameter, got ${JSON.stringify(value)}` };
    }
    if (d.type === 'choice' && !(d.options ?? []).includes(String(value))) {
      return { input: name, why: `${name} must be one of ${(d.options ?? []).join(', ')}, got ${JSON.stringify(value)}` };
    }
  }
  return null;
}

function scalar(value: unknown): string | boolean | number | null {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) ? value : null;
}
