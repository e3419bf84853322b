import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeInputs, encodeJobVariables, invalidVariableKey, planGitlabAction, SPEC_INPUT_PREFIX, UnaddressableTargetError,
} from '../../adapters/gitlab/actions-plan.ts';
import { gitlabMessage, inputNamedIn, refusalOf } from '../../adapters/gitlab/actions-refusals.ts';
import { gitlabConfigSchema } from '../../adapters/gitlab/config.ts';

const value = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean());
const variableKey = fc.stringMatching(/^[A-Za-z0-9_]{1,40}$/);

describe('GitLab actions: input encoding', () => {
  it('should send every non-prefixed input as a string variable, in order, and prefixed ones as typed spec inputs', () => {
    fc.assert(
      fc.property(fc.dictionary(variableKey, value), fc.dictionary(variableKey, value), (vars, spec) => {
        const inputs = { ...vars, ...Object.fromEntries(Object.entries(spec).map(([k, v]) => [`${SPEC_INPUT_PREFIX}${k}`, v])) };
        const encoded = encodeInputs(inputs);
        expect(encoded.variables).toEqual(Object.entries(vars).map(([key, v]) => ({ key, value: String(v) })));
        if (Object.keys(spec).length === 0) expect(encoded.inputs).toBeUndefined();
        else expect(encoded.inputs).toEqual(spec);
        expect(invalidVariableKey(inputs)).toBeNull();
      }),
    );
  });

  it('should write booleans and numbers as GitLab stores them', () => {
    expect(encodeInputs({ A: true, B: 3, C: 1.5, D: 'x' }).variables).toEqual([
      { key: 'A', value: 'true' }, { key: 'B', value: '3' }, { key: 'C', value: '1.5' }, { key: 'D', value: 'x' },
    ]);
    expect(encodeJobVariables({ CANARY: false })).toEqual([{ key: 'CANARY', value: 'false' }]);
  });

  it('should name the first key GitLab would refuse as a variable', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((k) => !/^[A-Za-z0-9_]{1,255}$/.test(k) && !k.startsWith(SPEC_INPUT_PREFIX)), (bad) => {
        expect(invalidVariableKey({ GOOD: 1, [bad]: 'x' })).toBe(bad);
      }),
    );
    expect(invalidVariableKey({ [SPEC_INPUT_PREFIX]: 'x' })).toBe(SPEC_INPUT_PREFIX);
    expect(invalidVariableKey({ ['K'.repeat(256)]: 'x' })).toBe('K'.repeat(256));
  });
});

describe('GitLab actions: plan', () => {
  it('should list the REST calls of each action below the API base, never a credential', () => {
    expect(planGitlabAction({ kind: 'cancelPipeline', pipelineNativeId: '42/pipelines/7', force: false })).toEqual([
      { method: 'GET', path: '/projects/42/pipelines/7' }, { method: 'POST', path: '/projects/42/pipelines/7/cancel' },
    ]);
    expect(planGitlabAction({ kind: 'cancelJob', jobNativeId: '42/jobs/9', force: true }).map((c) => c.path)).toEqual([
      '/projects/42/jobs/9', '/projects/42/jobs/9/cancel', '/projects/42/jobs/9/cancel?force=true',
    ]);
    expect(planGitlabAction({ kind: 'retryPipeline', pipelineNativeId: '42/pipelines/7', failedOnly: false })).toEqual([
      { method: 'GET', path: '/projects/42/pipelines/7/jobs?scope%5B%5D=failed&scope%5B%5D=canceled' },
      { method: 'POST', path: '/projects/42/pipelines/7/retry' },
    ]);
    expect(planGitlabAction({ kind: 'retryJob', jobNativeId: '42/jobs/9' })).toEqual([{ method: 'POST', path: '/projects/42/jobs/9/retry' }]);
    expect(planGitlabAction({ kind: 'triggerPipeline', projectNativeId: '42', ref: 'main', workflow: null, inputs: { T: 'secret-looking' } }))
      .toEqual([{ method: 'POST', path: '/projects/42/pipeline' }]);
    expect(planGitlabAction({ kind: 'approve', target: { type: 'Job', nativeId: '42/jobs/9' }, comment: null, inputs: {} }).map((c) => c.path)).toEqual([
      '/projects/42/jobs/9', '/projects/42/deployments?status=blocked&per_page=100', '/projects/42/jobs/9/play',
    ]);
    expect(planGitlabAction({ kind: 'approve', target: { type: 'Pipeline', nativeId: '42/pipelines/7' }, comment: null, inputs: {} })).toEqual([]);
  });

  it('should refuse ids that are not this adapter\'s', () => {
    expect(() => planGitlabAction({ kind: 'retryJob', jobNativeId: '42/pipelines/9' })).toThrow(UnaddressableTargetError);
    expect(() => planGitlabAction({ kind: 'triggerPipeline', projectNativeId: 'group/project', ref: 'main', workflow: null, inputs: {} })).toThrow(UnaddressableTargetError);
  });
});

describe('GitLab actions: refusals', () => {
  it('should read GitLab\'s error bodies as one line', () => {
    expect(gitlabMessage({ message: { base: ['Reference not found'] } })).toBe('Reference not found');
    expect(gitlabMessage({ message: '400 Bad request - Unplayable Job' })).toBe('400 Bad request - Unplayable Job');
    expect(gitlabMessage({ message: { 'variables.key': ['is invalid'], base: ['x'] } })).toBe('variables.key is invalid; x');
    expect(gitlabMessage({ error: 'ref is missing' })).toBe('ref is missing');
    expect(gitlabMessage('Retry later\n')).toBe('Retry later');
    expect(gitlabMessage(null)).toBe('');
  });

  it.each([
    [404, '404 Not found', 'NOT_FOUND'],
    [403, '403 Forbidden - Job is not retryable', 'NOT_RETRYABLE'],
    [403, '403 Forbidden', 'UPSTREAM_FORBIDDEN'],
    [401, '401 Unauthorized', 'UPSTREAM_FORBIDDEN'],
    [400, 'Reference not found', 'UNKNOWN_REF'],
    [400, '400 Bad request - Unplayable Job', 'NOT_WAITING'],
    [400, 'This deployment job is not waiting for approvals', 'NOT_WAITING'],
    [400, 'The same user can not approve', 'SUBMITTER_NOT_ALLOWED'],
    [400, 'You do not have permission to approve or reject this deployment', 'SUBMITTER_NOT_ALLOWED'],
    [400, 'unknown input arguments: region, zone', 'INVALID_INPUT'],
    [400, 'Missing CI config file', 'REFUSED'],
    [409, 'Conflict', 'REFUSED'],
  ])('should map %i "%s" to %s', (status, message, reason) => {
    expect(refusalOf(status, message).reason).toBe(reason);
  });

  it('should name the input GitLab names', () => {
    expect(refusalOf(400, 'unknown input arguments: region, zone').input).toBe('region');
    expect(inputNamedIn('`environment` input: `qa` cannot be used because it is not in the list of allowed options')).toBe('environment');
    expect(inputNamedIn('Insufficient permissions to set pipeline variables')).toBeNull();
    expect(refusalOf(400, 'Insufficient permissions to set pipeline variables')).toEqual({ reason: 'UPSTREAM_FORBIDDEN' });
    expect(refusalOf(400, 'variables.key is invalid')).toEqual({ reason: 'INVALID_INPUT' });
  });
});

describe('GitLab config: writeToken', () => {
  it('should accept an optional writeToken reference and name the key when it is malformed', () => {
    const base = { groups: ['platform'] };
    expect(gitlabConfigSchema.parse(base).writeToken).toBeUndefined();
    expect(gitlabConfigSchema.parse({ ...base, writeToken: { env: 'GITLAB_WRITE_TOKEN' } }).writeToken).toEqual({ env: 'GITLAB_WRITE_TOKEN' });
    const bad = gitlabConfigSchema.safeParse({ ...base, writeToken: 'glpat-inline' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['writeToken']);
  });
});
