import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../adapters/jenkins/action-client.ts';
import { buildParameters, checkInputs, inputJson, parametersForm, toDeclarations } from '../../adapters/jenkins/action-params.ts';
import { queueIdOf } from '../../adapters/jenkins/action-paths.ts';
import { planAction } from '../../adapters/jenkins/action-plan.ts';
import { isActionRefusedError, isUpstreamError } from '../../src/errors.ts';

const res = (status: number, reason: string) => ({ status, location: null, reason, text: reason });

describe('jenkins action refusals', () => {
  it.each([
    [400, 'You need to be alice,ops to submit this.', 'SUBMITTER_NOT_ALLOWED'],
    [400, "You need to be 'alice' (or have Job/Cancel permissions) to cancel this.", 'SUBMITTER_NOT_ALLOWED'],
    [400, 'You need to have Job/Build permissions to submit this.', 'SUBMITTER_NOT_ALLOWED'],
    [400, 'This input has been already given', 'NOT_WAITING'],
    [403, 'bot is missing the Job/Build permission', 'UPSTREAM_FORBIDDEN'],
    [401, 'Invalid password/token for user: bot', 'UPSTREAM_FORBIDDEN'],
    [404, 'Not Found', 'NOT_FOUND'],
    [409, 'x is not buildable', 'REFUSED'],
    [400, 'team-a/lint is not parameterized', 'REFUSED'],
  ])('%i %s → %s', (status, reason, expected) => {
    const error = refusalOf('jk', 'POST', '/job/x/build?VERSION=hunter2', res(status, reason));
    expect(isActionRefusedError(error) && error.reason).toBe(expected);
    // The query (which could carry a secret) never reaches the error.
    expect(error.message).not.toContain('hunter2');
  });

  it('leaves 429 and 5xx to UpstreamError, as for reads', () => {
    expect(isUpstreamError(refusalOf('jk', 'POST', '/job/x/stop', res(503, 'down')))).toBe(true);
    expect(isUpstreamError(refusalOf('jk', 'POST', '/job/x/stop', res(429, 'slow')))).toBe(true);
  });
});

describe('jenkins parameters', () => {
  it('maps parameter definitions to declarations', () => {
    const job = {
      property: [
        { _class: 'org.jenkinsci.plugins.workflow.multibranch.BranchJobProperty' },
        {
          _class: 'hudson.model.ParametersDefinitionProperty',
          parameterDefinitions: [
            { _class: 'hudson.model.ChoiceParameterDefinition', name: 'ENV', type: 'ChoiceParameterDefinition', choices: ['a', 'b'], defaultParameterValue: { value: 'a' }, description: '' },
            { _class: 'hudson.model.BooleanParameterDefinition', name: 'DRY', type: 'BooleanParameterDefinition', defaultParameterValue: { value: true } },
            { _class: 'hudson.model.PasswordParameterDefinition', name: 'PW', type: 'PasswordParameterDefinition', defaultParameterValue: {} },
            { _class: 'hudson.model.FileParameterDefinition', name: 'F', type: 'FileParameterDefinition' },
            { _class: 'hudson.model.StringParameterDefinition', type: 'StringParameterDefinition' },
          ],
        },
      ],
    };
    expect(toDeclarations(job)).toEqual([
      { name: 'ENV', type: 'choice', required: false, options: ['a', 'b'], defaultValue: 'a', description: '' },
      { name: 'DRY', type: 'boolean', required: false, defaultValue: true, description: null },
      { name: 'PW', type: 'string', required: false, defaultValue: null, description: null },
      { name: 'F', type: 'string', required: false, defaultValue: null, description: null },
    ]);
    expect(toDeclarations({ property: [] })).toEqual([]);
    expect(toDeclarations(null)).toEqual([]);
  });

  it('reads a ParametersAction, leaving out values Jenkins does not export (passwords)', () => {
    const build = { actions: [{ _class: 'hudson.model.CauseAction' }, { _class: 'hudson.model.ParametersAction', parameters: [
      { name: 'A', value: 'x' }, { name: 'B', value: false }, { _class: 'hudson.model.PasswordParameterValue', name: 'P' },
    ] }] };
    expect(buildParameters(build)).toEqual([{ name: 'A', value: 'x' }, { name: 'B', value: 'false' }]);
    expect(buildParameters({ actions: [{}, { _class: 'hudson.model.CauseAction' }] })).toBeNull();
  });

  it('encodes any inputs into a form and a json field that decode to the same values', () => {
    const name = fc.string({ minLength: 1, maxLength: 12 });
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.boolean(), fc.integer());
    fc.assert(fc.property(fc.dictionary(name, value), (inputs) => {
      const form = parametersForm(inputs);
      const decoded = new URLSearchParams(form.toString());
      expect(Object.fromEntries(decoded)).toEqual(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v)])));
      const json = JSON.parse(inputJson(inputs)) as { parameter: { name: string; value: unknown }[] };
      expect(Object.fromEntries(json.parameter.map((p) => [p.name, p.value]))).toEqual(inputs);
    }));
  });

  it('accepts exactly the declared choices and boolean forms', () => {
    const declared = [
      { name: 'C', type: 'choice' as const, required: false, options: ['x', 'y'] },
      { name: 'B', type: 'boolean' as const, required: false },
    ];
    fc.assert(fc.property(fc.string(), (v) => {
      const bad = checkInputs(declared, { C: v });
      expect(bad === null).toBe(v === 'x' || v === 'y');
      expect(checkInputs(declared, { B: v }) === null).toBe(v === 'true' || v === 'false');
    }));
    expect(checkInputs(declared, { B: true })).toBeNull();
    expect(checkInputs(declared, { Z: 1 })).toMatchObject({ input: 'Z' });
  });
});

describe('jenkins action plans', () => {
  it('never put input values into paths', () => {
    fc.assert(fc.property(fc.string({ minLength: 3, maxLength: 20 }).filter((s) => /^[A-Za-z0-9]+$/.test(s)), (secret) => {
      const trigger = planAction({ kind: 'triggerPipeline', projectNativeId: 'team-a/service', ref: 'main', workflow: null, inputs: { TOKEN: `zz${secret}` } });
      const approve = planAction({ kind: 'approve', target: { type: 'Pipeline', nativeId: 'a#3' }, comment: `zz${secret}`, inputs: { X: `zz${secret}` } });
      for (const c of [...trigger, ...approve]) expect(c.path).not.toContain(`zz${secret}`);
    }));
  });

  it('plan nothing for what perform refuses before any request', () => {
    expect(planAction({ kind: 'retryJob', jobNativeId: 'a#1/stage/5' })).toEqual([]);
    expect(planAction({ kind: 'cancelJob', jobNativeId: 'a#1/stage/5', force: false })).toEqual([]);
    expect(planAction({ kind: 'retryPipeline', pipelineNativeId: 'a#1', failedOnly: true })).toEqual([]);
    expect(planAction({ kind: 'cancelPipeline', pipelineNativeId: 'not an id', force: false })).toEqual([]);
  });

  it('reads the queue id of a Location header', () => {
    expect(queueIdOf('http://ci/jenkins/queue/item/42/')).toBe(42);
    expect(queueIdOf('http://ci/queue/item/7')).toBe(7);
    expect(queueIdOf('http://ci/job/x/')).toBeNull();
    expect(queueIdOf(null)).toBeNull();
  });
});
