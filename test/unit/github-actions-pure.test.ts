/**
 * The pure parts of GitHub's actions (issue 15): input encoding for workflow_dispatch, the
 * dispatch inputs a workflow file declares, the refusal table and the planned calls.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { encodeDispatchInput, parseDispatchInputs } from '../../adapters/github/actions-inputs.ts';
import { planCalls } from '../../adapters/github/actions-plan.ts';
import { inputNamedIn, refusalFor } from '../../adapters/github/actions-refusals.ts';
import type { ActionInputDeclaration, ActionKind } from '../../src/adapter-contract.ts';
import { ActionRefusedError } from '../../src/errors.ts';

describe('encodeDispatchInput', () => {
  it('sends strings as they are, booleans as "true"/"false", finite numbers in a form that reads back to the same number', () => {
    fc.assert(fc.property(fc.string(), (s) => encodeDispatchInput(s) === s));
    expect([encodeDispatchInput(true), encodeDispatchInput(false)]).toEqual(['true', 'false']);
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => Number(encodeDispatchInput(n)) === n));
    fc.assert(fc.property(fc.integer(), (n) => encodeDispatchInput(n) === String(n)));
  });

  it('refuses numbers without a string form', () => {
    expect([NaN, Infinity, -Infinity].map(encodeDispatchInput)).toEqual([null, null, null]);
  });
});

describe('parseDispatchInputs', () => {
  const deploy = `name: Deploy
on:
  push:
  workflow_dispatch:
    inputs:
      environment: { type: choice, required: true, options: [staging, production], default: staging, description: Where }
      dry_run: { type: boolean, default: "false" }
      replicas: { type: number, default: 3 }
      tag: { description: no type means string }
      target: { type: environment, required: false }
      weird: { type: secret }
`;

  it('reads names, types, required, options, defaults and descriptions in file order', () => {
    expect(parseDispatchInputs(deploy)).toEqual([
      { name: 'environment', type: 'choice', required: true, options: ['staging', 'production'], defaultValue: 'staging', description: 'Where' },
      { name: 'dry_run', type: 'boolean', required: false, defaultValue: false, description: null },
      { name: 'replicas', type: 'number', required: false, defaultValue: 3, description: null },
      { name: 'tag', type: 'string', required: false, defaultValue: null, description: 'no type means string' },
      { name: 'target', type: 'environment', required: false, defaultValue: null, description: null },
      { name: 'weird', type: 'string', required: false, defaultValue: null, description: null },
    ]);
  });

  it('a dispatch trigger without inputs declares none; `on` as a name or a list counts', () => {
    expect(parseDispatchInputs('on: workflow_dispatch\njobs: {}\n')).toEqual([]);
    expect(parseDispatchInputs('on: [push, workflow_dispatch]\n')).toEqual([]);
    expect(parseDispatchInputs('on:\n  workflow_dispatch:\n')).toEqual([]);
  });

  it('null for malformed YAML, a non-mapping document, or a workflow without workflow_dispatch', () => {
    expect(parseDispatchInputs('on: [push\njobs: {')).toBeNull();
    expect(parseDispatchInputs('key: "unterminated')).toBeNull();
    expect(parseDispatchInputs('- a\n- b\n')).toBeNull();
    expect(parseDispatchInputs('on: push\n')).toBeNull();
    expect(parseDispatchInputs('on:\n  workflow_dispatch:\n    inputs: [a, b]\n')).toBeNull();
  });

  it('never throws, whatever the text', () => {
    fc.assert(fc.property(fc.string(), (text) => {
      const r = parseDispatchInputs(text);
      return r === null || Array.isArray(r);
    }));
  });

  it('reads back what a workflow file declares (generated declarations, written with the yaml package)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,12}$/);
    const decl: fc.Arbitrary<ActionInputDeclaration> = fc.oneof(
      fc.record({ type: fc.constant('string' as const), defaultValue: fc.option(fc.string(), { nil: null }) }),
      fc.record({ type: fc.constant('boolean' as const), defaultValue: fc.option(fc.boolean(), { nil: null }) }),
      fc.record({ type: fc.constant('number' as const), defaultValue: fc.option(fc.integer(), { nil: null }) }),
      fc.record({ type: fc.constant('choice' as const), options: fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }) })
        .map((c) => ({ ...c, defaultValue: c.options[0]! })),
    ).chain((d) => fc.record({ name, required: fc.boolean(), description: fc.option(fc.string(), { nil: null }) }).map((rest) => ({ ...rest, ...d })));
    fc.assert(fc.property(fc.uniqueArray(decl, { selector: (d) => d.name, maxLength: 6 }), (decls) => {
      const inputs = Object.fromEntries(decls.map((d) => [d.name, {
        type: d.type, required: d.required,
        ...(d.options ? { options: d.options } : {}),
        ...(d.defaultValue === null ? {} : { default: d.defaultValue }),
        ...(d.description === null ? {} : { description: d.description }),
      }]));
      const text = stringify({ name: 'x', on: { workflow_dispatch: { inputs } }, jobs: {} });
      expect(parseDispatchInputs(text)).toEqual(decls.map((d) => ({
        name: d.name, type: d.type, required: d.required, ...(d.options ? { options: d.options } : {}),
        defaultValue: d.defaultValue ?? null, description: d.description ?? null,
      })));
    }));
  });
});

describe('refusalFor (GitHub status and message → reason)', () => {
  const rows: [ActionKind, number, string, string, string?][] = [
    ['cancelPipeline', 409, 'Cannot cancel a workflow run that is completed.', 'ALREADY_FINISHED'],
    ['cancelJob', 409, 'Cannot cancel a workflow run that is completed.', 'ALREADY_FINISHED'],
    ['retryPipeline', 403, 'Unable to re-run this workflow run because it was created over a month ago', 'RETRY_LIMIT'],
    ['retryJob', 403, 'This workflow run has reached the maximum number of re-runs', 'RETRY_LIMIT'],
    ['retryPipeline', 403, 'This workflow is already running', 'NOT_RETRYABLE'],
    ['retryPipeline', 403, 'Resource not accessible by integration', 'UPSTREAM_FORBIDDEN'],
    ['cancelPipeline', 401, 'Bad credentials', 'UPSTREAM_FORBIDDEN'],
    ['approve', 403, 'Resource not accessible by integration', 'UPSTREAM_FORBIDDEN'],
    ['cancelPipeline', 404, 'Not Found', 'NOT_FOUND'],
    ['triggerPipeline', 404, 'Not Found', 'NOT_FOUND'],
    ['triggerPipeline', 422, 'No ref found for: nope', 'UNKNOWN_REF'],
    ['triggerPipeline', 422, 'Unexpected inputs provided: ["colour", "size"]', 'INVALID_INPUT', 'colour'],
    ['triggerPipeline', 422, "Required input 'version' not provided", 'INVALID_INPUT', 'version'],
    ['triggerPipeline', 422, "Provided value 'mars' for input 'environment' not in the list of allowed values", 'INVALID_INPUT', 'environment'],
    ['triggerPipeline', 422, "For 'properties/dry_run', true is not a string.", 'INVALID_INPUT', 'dry_run'],
    ['triggerPipeline', 422, "Workflow does not have 'workflow_dispatch' trigger", 'NOT_SUPPORTED'],
    ['approve', 422, 'No pending deployment requests to approve or reject', 'NOT_WAITING'],
    ['reject', 409, 'conflict', 'NOT_WAITING'],
    ['retryJob', 422, 'Something else', 'REFUSED'],
    ['cancelPipeline', 400, 'Problems parsing JSON', 'REFUSED'],
  ];
  it.each(rows)('%s %i %s → %s', (kind, status, message, reason, input) => {
    const r = refusalFor(kind, status, message);
    expect(r.reason).toBe(reason);
    expect(r.input).toBe(input);
  });

  it('names no input in a message that names none', () => {
    expect(inputNamedIn('Something went wrong')).toBeUndefined();
  });
});

describe('planCalls', () => {
  const run = 'octo-org/api/runs/42';
  const job = 'octo-org/api/jobs/77';
  it('lists the REST calls of each kind', () => {
    const p = (r: Parameters<typeof planCalls>[1]) => planCalls('gh', r).map((c) => `${c.method} ${c.path}`);
    expect(p({ kind: 'cancelPipeline', pipelineNativeId: run, force: false })).toEqual(['POST /repos/octo-org/api/actions/runs/42/cancel']);
    expect(p({ kind: 'cancelPipeline', pipelineNativeId: run, force: true })).toEqual(['POST /repos/octo-org/api/actions/runs/42/force-cancel']);
    expect(p({ kind: 'cancelJob', jobNativeId: job, force: false })).toEqual(['GET /repos/octo-org/api/actions/jobs/77', 'POST /repos/octo-org/api/actions/runs/{run_id}/cancel']);
    expect(p({ kind: 'retryPipeline', pipelineNativeId: run, failedOnly: true })).toEqual(['GET /repos/octo-org/api/actions/runs/42', 'POST /repos/octo-org/api/actions/runs/42/rerun-failed-jobs']);
    expect(p({ kind: 'retryPipeline', pipelineNativeId: run, failedOnly: false })).toEqual(['GET /repos/octo-org/api/actions/runs/42', 'POST /repos/octo-org/api/actions/runs/42/rerun']);
    expect(p({ kind: 'retryJob', jobNativeId: job })).toEqual([
      'GET /repos/octo-org/api/actions/jobs/77', 'GET /repos/octo-org/api/actions/runs/{run_id}', 'POST /repos/octo-org/api/actions/jobs/77/rerun',
    ]);
    expect(p({ kind: 'triggerPipeline', projectNativeId: 'octo-org/api', ref: 'main', workflow: '.github/workflows/deploy.yml', inputs: {} }))
      .toEqual(['POST /repos/octo-org/api/actions/workflows/deploy.yml/dispatches']);
    expect(p({ kind: 'reject', target: { type: 'Pipeline', nativeId: run }, comment: null, inputs: {} }))
      .toEqual(['GET /repos/octo-org/api/actions/runs/42/pending_deployments', 'POST /repos/octo-org/api/actions/runs/42/pending_deployments']);
  });

  it('refuses what GitHub need not be asked: no workflow, a Job approval, approval inputs, malformed ids', () => {
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof ActionRefusedError ? [e.reason, e.details.input] : ['other'];
      }
      return ['none'];
    };
    expect(reason(() => planCalls('gh', { kind: 'triggerPipeline', projectNativeId: 'octo-org/api', ref: 'main', workflow: ' ', inputs: {} }))).toEqual(['INVALID_INPUT', 'workflow']);
    expect(reason(() => planCalls('gh', { kind: 'approve', target: { type: 'Job', nativeId: job }, comment: null, inputs: {} }))).toEqual(['NOT_SUPPORTED', undefined]);
    expect(reason(() => planCalls('gh', { kind: 'approve', target: { type: 'Pipeline', nativeId: run }, comment: null, inputs: { x: 1 } }))).toEqual(['INVALID_INPUT', 'x']);
    expect(reason(() => planCalls('gh', { kind: 'cancelPipeline', pipelineNativeId: 'octo-org/api/jobs/1', force: false }))).toEqual(['NOT_FOUND', undefined]);
  });

  it('every planned path stays below the repository and carries no query', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.boolean(), (id, flag) => {
      const calls = [
        ...planCalls('gh', { kind: 'cancelPipeline', pipelineNativeId: `octo-org/api/runs/${id}`, force: flag }),
        ...planCalls('gh', { kind: 'retryPipeline', pipelineNativeId: `octo-org/api/runs/${id}`, failedOnly: flag }),
        ...planCalls('gh', { kind: 'retryJob', jobNativeId: `octo-org/api/jobs/${id}` }),
      ];
      return calls.every((c) => c.path.startsWith('/repos/octo-org/api/actions/') && !c.path.includes('?') && (c.path.includes(String(id)) || c.path.includes('/runs/{run_id}')));
    }));
  });
});
