import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRevisions } from '../../src/model.ts';
import { fromJobHook, fromPipelineHook, toJob, toPipeline, toProject, toRunner, BRIDGE_LABEL } from '../../adapters/gitlab/normalize.ts';
import { GitlabPayloadError, isoTime } from '../../adapters/gitlab/fields.ts';
import { parseJobId, parsePipelineId, formatJobId, formatPipelineId } from '../../adapters/gitlab/native-ids.ts';

/** gitlabhq doc/user/project/integrations/webhook_events.md, "Job events" example (trimmed). */
const JOB_HOOK = {
  object_kind: 'build', ref: 'gitlab-script-trigger', tag: false, before_sha: '2293ada6b400935a1378653304eaf6221e0fdb8f',
  sha: '2293ada6b400935a1378653304eaf6221e0fdb8f', retries_count: 2, build_id: 1977, build_name: 'test', build_stage: 'test',
  build_status: 'created', build_created_at: '2021-02-23T02:41:37.886Z', build_started_at: null, build_finished_at: null,
  build_created_at_iso: '2021-02-23T02:41:37Z', build_started_at_iso: null, build_finished_at_iso: null,
  build_duration: null, build_queued_duration: 1095.588715, build_allow_failure: false, build_failure_reason: 'script_failure',
  pipeline_id: 2366, runner: { active: true, runner_type: 'project_type', is_shared: false, id: 380987, description: 'shared-runners-manager-6.gitlab.com', tags: ['linux', 'docker'] },
  project_id: 380, project_name: 'gitlab-org/gitlab-test',
  user: { id: 3, name: 'User', email: 'user@gitlab.com', avatar_url: 'http://www.gravatar.com/avatar/e32bd13e2add097461cb96824b7a829c?s=80&d=identicon' },
  commit: { id: 2366, name: 'Build pipeline', sha: '2293ada6b400935a1378653304eaf6221e0fdb8f', message: 'test\n', author_name: 'User', author_email: 'user@gitlab.com', author_url: 'http://192.168.64.1:3005/user', status: 'created', duration: null, started_at: null, finished_at: null },
  repository: { name: 'gitlab_test', description: 'Atque in sunt eos similique dolores voluptatem.', homepage: 'http://192.168.64.1:3005/gitlab-org/gitlab-test', git_ssh_url: 'git@192.168.64.1:gitlab-org/gitlab-test.git', git_http_url: 'http://192.168.64.1:3005/gitlab-org/gitlab-test.git', visibility_level: 20 },
  project: { id: 380, name: 'Gitlab Test', web_url: 'http://192.168.64.1:3005/gitlab-org/gitlab-test', path_with_namespace: 'gitlab-org/gitlab-test', default_branch: 'master' },
  environment: null,
};

/** Same docs, "Pipeline events" example (trimmed to two builds). */
const PIPELINE_HOOK = {
  object_kind: 'pipeline',
  object_attributes: {
    id: 31, iid: 3, name: 'Pipeline for branch: master', ref: 'master', tag: false, sha: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2',
    before_sha: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2', source: 'merge_request_event', status: 'success', detailed_status: 'passed with warnings',
    stages: ['build', 'test', 'deploy'], created_at: '2016-08-12 15:23:28 UTC', finished_at: '2016-08-12 15:26:29 UTC', duration: 63, queued_duration: 12,
    variables: [{ key: 'NESTOR_PROD_ENVIRONMENT', value: 'us-west-1' }], url: 'http://example.com/gitlab-org/gitlab-test/-/pipelines/31',
  },
  merge_request: null,
  user: { id: 1, name: 'Administrator', username: 'root', avatar_url: 'http://www.gravatar.com/avatar/e32bd13e2add097461cb96824b7a829c?s=80\u0026d=identicon', email: 'user_email@gitlab.com' },
  project: { id: 1, name: 'Gitlab Test', path_with_namespace: 'gitlab-org/gitlab-test', web_url: 'http://example.com/gitlab-org/gitlab-test', default_branch: 'master' },
  commit: { id: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2', message: 'test\n', timestamp: '2016-08-12T17:23:21+02:00', url: 'http://example.com/gitlab-org/gitlab-test/commit/bcbb5ec396a2c0f828686f14fac9b80b780504f2', author: { name: 'User', email: 'user@gitlab.com' } },
  builds: [
    { id: 380, stage: 'deploy', name: 'production', status: 'skipped', created_at: '2016-08-12 15:23:28 UTC', started_at: null, finished_at: null, duration: null, queued_duration: null, failure_reason: null, when: 'manual', manual: true, allow_failure: false, user: { id: 1, name: 'Administrator', username: 'root' }, runner: null, artifacts_file: { filename: null, size: null }, environment: { name: 'production', action: 'start', deployment_tier: 'production' } },
    { id: 377, stage: 'test', name: 'test-image', status: 'failed', created_at: '2016-08-12 15:23:28 UTC', started_at: '2016-08-12 15:26:12 UTC', finished_at: '2016-08-12 15:26:29 UTC', duration: 17.0, queued_duration: 196.0, failure_reason: 'script_failure', when: 'on_success', manual: false, allow_failure: true, user: { id: 1, name: 'Administrator', username: 'root' }, runner: { id: 380987, description: 'shared-runners-manager-6.gitlab.com', active: true, runner_type: 'instance_type', is_shared: true, tags: ['linux', 'docker', 'shared-runner'] }, artifacts_file: { filename: null, size: null }, environment: null },
  ],
};

/** doc/api/jobs.md "Get a single job" example (trimmed). */
const REST_JOB = {
  commit: { author_email: 'admin@example.com', author_name: 'Administrator', id: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd' },
  coverage: null, allow_failure: false, created_at: '2015-12-24T15:51:21.880Z', started_at: '2015-12-24T17:54:30.733Z', finished_at: '2015-12-24T17:54:31.198Z',
  erased_at: null, duration: 0.465, queued_duration: 0.010, artifacts_expire_at: '2016-01-23T17:54:31.198Z', tag_list: ['docker runner', 'macos-10.15'],
  id: 8, name: 'rubocop', pipeline: { id: 6, project_id: 1, ref: 'main', sha: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd', status: 'pending' },
  ref: 'main', artifacts: [], runner: { id: 32, description: '', ip_address: null, active: true, paused: false, is_shared: true, runner_type: 'instance_type', name: null, online: false, status: 'offline' },
  stage: 'test', status: 'failed', failure_reason: 'script_failure', tag: false, web_url: 'https://example.com/foo/bar/-/jobs/8',
  project: { ci_job_token_scope_enabled: false }, user: { id: 1, name: 'Administrator', username: 'root' },
};

/** doc/api/pipelines.md "Get a single pipeline" example (trimmed). */
const REST_PIPELINE = {
  id: 287, iid: 144, project_id: 21, name: 'Build pipeline', sha: '50f0acb76a40e34a4ff304f7347dcc6587da8a14', ref: 'main', status: 'success', source: 'push',
  created_at: '2022-09-21T01:05:07.200Z', updated_at: '2022-09-21T01:05:50.185Z', web_url: 'http://127.0.0.1:3000/test-group/test-project/-/pipelines/287',
  before_sha: '8a24fb3c5877a6d0b611ca41fc86edc174593e2b', tag: false, yaml_errors: null,
  user: { id: 1, username: 'root', name: 'Administrator', state: 'active', avatar_url: 'https://www.gravatar.com/avatar/x', web_url: 'http://127.0.0.1:3000/root' },
  started_at: '2022-09-21T01:05:14.197Z', finished_at: '2022-09-21T01:05:50.175Z', committed_at: null, duration: 34, queued_duration: 6, coverage: null,
  detailed_status: { icon: 'status_success', text: 'passed', label: 'passed', group: 'success', tooltip: 'passed', has_details: false, details_path: '/test-group/test-project/-/pipelines/287', illustration: null, favicon: '/assets/ci_favicons/favicon_status_success.png' },
};

/** doc/api/runners.md "Get runner's details" example (trimmed) and a list item. */
const RUNNER_DETAIL = {
  active: true, paused: false, architecture: null, description: 'test-1-20150125', id: 6, ip_address: null, is_shared: false, runner_type: 'project_type',
  contacted_at: '2016-01-25T16:39:48.066Z', maintenance_note: null, name: null, online: true, status: 'online', platform: null,
  projects: [{ id: 1, name: 'GitLab Community Edition' }], revision: null, tag_list: ['ruby', 'mysql'], version: null, access_level: 'ref_protected', maximum_timeout: 3600,
};

describe('GitLab normalizers on documented payloads', () => {
  it('should read a Job Hook, taking the pipeline from pipeline_id (commit.id is the pipeline id)', () => {
    const j = fromJobHook('gl', { ...JOB_HOOK, commit: { ...JOB_HOOK.commit, id: 99999 } });
    expect(j).toMatchObject({
      nativeId: '380/jobs/1977', pipelineNativeId: '380/pipelines/2366', projectNativeId: '380', name: 'test', status: 'PENDING',
      waitReason: null, attempt: 3, runnerNativeId: null, labels: [], branch: 'gitlab-script-trigger',
      // status is created: the hook's "script_failure" is not a failure.
      native: { provider: 'gitlab', status: 'created', failureReason: null },
      url: 'http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/1977',
    });
    const running = fromJobHook('gl', { ...JOB_HOOK, build_status: 'running', build_started_at: '2021-02-23 02:42:00 UTC' });
    expect(running).toMatchObject({ status: 'RUNNING', runnerNativeId: '380987', runnerName: 'shared-runners-manager-6.gitlab.com', startedAt: '2021-02-23T02:42:00.000Z' });
    const failed = fromJobHook('gl', { ...JOB_HOOK, build_status: 'failed', build_failure_reason: 'job_execution_timeout', build_finished_at: '2021-02-23 02:50:00 UTC' });
    expect(failed).toMatchObject({ status: 'TIMED_OUT', native: { failureReason: 'job_execution_timeout' } });
    expect(compareRevisions(failed.revision, running.revision)).toBeGreaterThan(0);
    expect(compareRevisions(running.revision, fromJobHook('gl', JOB_HOOK).revision)).toBeGreaterThan(0);
  });

  it('should keep the runner of a started job that waits for a callback (Job Hook, waiting_for_callback)', () => {
    const started = { build_started_at: '2021-02-23 02:42:00 UTC', build_started_at_iso: '2021-02-23T02:42:00Z' };
    const running = fromJobHook('gl', { ...JOB_HOOK, ...started, build_status: 'running' });
    const waiting = fromJobHook('gl', { ...JOB_HOOK, ...started, build_status: 'waiting_for_callback', build_duration: 12.5 });
    expect(waiting).toMatchObject({
      status: 'WAITING', waitReason: 'CALLBACK', runnerNativeId: '380987', runnerName: 'shared-runners-manager-6.gitlab.com',
      startedAt: '2021-02-23T02:42:00.000Z', finishedAt: null,
    });
    // It follows `running`: the live state takes it over the running observation.
    expect(compareRevisions(waiting.revision, running.revision)).toBeGreaterThan(0);
    // A job that waits before it started (manual, resource) names no runner, even if the payload carries one.
    for (const status of ['manual', 'waiting_for_resource', 'scheduled', 'pending']) {
      expect(fromJobHook('gl', { ...JOB_HOOK, build_status: status }).runnerNativeId, status).toBeNull();
    }
  });

  it('should read a Pipeline Hook with its builds as jobs; passed with warnings → UNSTABLE', () => {
    const { pipeline, jobs } = fromPipelineHook('gl', PIPELINE_HOOK);
    expect(pipeline).toMatchObject({
      nativeId: '1/pipelines/31', projectNativeId: '1', number: 3, name: 'Pipeline for branch: master', status: 'UNSTABLE',
      branch: 'master', ref: 'refs/heads/master', event: 'merge_request_event', actor: { login: 'root' },
      createdAt: '2016-08-12T15:23:28.000Z', finishedAt: '2016-08-12T15:26:29.000Z',
      native: { status: 'success', conclusion: 'success-with-warnings' },
    });
    expect(jobs.map((j) => [j.nativeId, j.status, j.runnerNativeId])).toEqual([
      ['1/jobs/380', 'SKIPPED', null],
      ['1/jobs/377', 'UNSTABLE', '380987'],
    ]);
    expect(jobs.every((j) => j.pipelineNativeId === pipeline.nativeId)).toBe(true);
  });

  it('should read REST jobs, pipelines, projects and runners', () => {
    expect(toJob('gl', REST_JOB)).toMatchObject({
      nativeId: '1/jobs/8', pipelineNativeId: '1/pipelines/6', status: 'FAILURE', labels: ['docker runner', 'macos-10.15'],
      runnerNativeId: '32', native: { failureReason: 'script_failure' }, finishedAt: '2015-12-24T17:54:31.198Z',
    });
    const p = toPipeline('gl', REST_PIPELINE);
    expect(p).toMatchObject({ nativeId: '21/pipelines/287', status: 'SUCCESS', number: 144, updatedAt: '2022-09-21T01:05:50.185Z', commitSha: REST_PIPELINE.sha });
    const warn = toPipeline('gl', { ...REST_PIPELINE, detailed_status: { ...REST_PIPELINE.detailed_status, group: 'success-with-warnings' } });
    expect(warn.status).toBe('UNSTABLE');
    // A list item (no detailed_status) never replaces a same-second detailed observation.
    const { detailed_status: _omit, ...item } = REST_PIPELINE;
    expect(compareRevisions(toPipeline('gl', item).revision, warn.revision)).toBeLessThan(0);
    expect(toProject('gl', { id: 3, name: 'Diaspora', path_with_namespace: 'diaspora/diaspora-client', web_url: 'http://example.com/diaspora/diaspora-client', default_branch: 'main' }))
      .toMatchObject({ nativeId: '3', fullName: 'diaspora/diaspora-client', defaultBranch: 'main' });
    const r = toRunner('gl', { ...RUNNER_DETAIL, tag_list: undefined, job_execution_status: 'active' }, 1000, { detail: RUNNER_DETAIL });
    expect(r).toMatchObject({ nativeId: '6', name: 'test-1-20150125', state: 'BUSY', paused: false, labels: ['ruby', 'mysql'], scope: 'PROJECT' });
    expect(toRunner('gl', { id: 7, online: true, paused: true, status: 'paused', runner_type: 'instance_type' }, 1)).toMatchObject({ state: 'IDLE', paused: true, scope: 'INSTANCE' });
  });

  it('should take a job\'s queue time from queued_duration, not from created_at (later stages wait for earlier ones first)', () => {
    // The documented job: created 2 h before it started, of which 10 ms pending for a runner.
    expect(toJob('gl', REST_JOB).queuedAt).toBe('2015-12-24T17:54:30.723Z');
    expect(toJob('gl', { ...REST_JOB, queued_duration: null }).queuedAt).toBe(REST_JOB.created_at);
    expect(toJob('gl', { ...REST_JOB, status: 'pending', started_at: null }).queuedAt).toBe(REST_JOB.created_at);
  });

  it('should name an unnamed pipeline as GitLab shows it: name, else commit title, else ref', () => {
    const hook = (attrs: object, commit?: object) => fromPipelineHook('gl', { ...PIPELINE_HOOK, object_attributes: { ...PIPELINE_HOOK.object_attributes, ...attrs }, commit }).pipeline;
    expect(hook({}, PIPELINE_HOOK.commit).name).toBe('Pipeline for branch: master');
    // The documented payload has only `message` ("test\n"); current GitLab also sends `title`.
    expect(hook({ name: null }, PIPELINE_HOOK.commit).name).toBe('test');
    expect(hook({ name: null }, { ...PIPELINE_HOOK.commit, title: 'Fix the flaky test', message: 'Fix the flaky test\n\nLong body' }).name).toBe('Fix the flaky test');
    expect(hook({ name: null }).name).toBe('master');
    // REST pipelines carry no commit title: the adapter passes the one it learnt, else the ref.
    const rest = { ...REST_PIPELINE, name: null };
    expect(toPipeline('gl', rest).name).toBe('main');
    expect(toPipeline('gl', rest, null, 'Fix the flaky test').name).toBe('Fix the flaky test');
    expect(toPipeline('gl', REST_PIPELINE, null, 'Fix the flaky test').name).toBe('Build pipeline');
  });

  it('should give a pipeline a conclusion only once it finished', () => {
    const running = { ...REST_PIPELINE, status: 'running', finished_at: null, detailed_status: { ...REST_PIPELINE.detailed_status, group: 'running', label: 'running', text: 'running' } };
    expect(toPipeline('gl', running).native).toEqual({ provider: 'gitlab', status: 'running', conclusion: null, failureReason: null });
    const hookRunning = fromPipelineHook('gl', { ...PIPELINE_HOOK, object_attributes: { ...PIPELINE_HOOK.object_attributes, status: 'running', detailed_status: 'running', finished_at: null } });
    expect(hookRunning.pipeline.native.conclusion).toBeNull();
    expect(toPipeline('gl', REST_PIPELINE).native.conclusion).toBe('success');
    const failed = fromPipelineHook('gl', { ...PIPELINE_HOOK, object_attributes: { ...PIPELINE_HOOK.object_attributes, status: 'failed', detailed_status: 'failed' } });
    expect(failed.pipeline.native.conclusion).toBe('failed');
  });

  it('should give REST and hook observations of one pipeline the same name and conclusion (no flip between sources)', () => {
    const statuses = ['created', 'waiting_for_resource', 'preparing', 'waiting_for_callback', 'pending', 'running', 'success', 'failed', 'canceling', 'canceled', 'skipped', 'manual', 'scheduled'];
    const text = fc.option(fc.string({ maxLength: 12 }), { nil: null });
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.boolean(), text, text, fc.constantFrom('main', 'v1.2.0', 'feature/x'), (status, warnings, name, title, ref) => {
        const group = status === 'success' && warnings ? 'success-with-warnings' : status;
        const label = status === 'success' && warnings ? 'passed with warnings' : status;
        const rest = toPipeline('gl', { ...REST_PIPELINE, status, name, ref, detailed_status: { ...REST_PIPELINE.detailed_status, group } }, null, title?.trim() ? title.trim() : null);
        const { pipeline: hooked } = fromPipelineHook('gl', {
          ...PIPELINE_HOOK,
          object_attributes: { ...PIPELINE_HOOK.object_attributes, status, name, ref, detailed_status: label },
          commit: title === null ? undefined : { ...PIPELINE_HOOK.commit, title, message: title },
        });
        expect(hooked.name).toBe(rest.name);
        expect(hooked.native.conclusion).toBe(rest.native.conclusion);
        expect(rest.name).toBe(name ? name : title?.trim() ? title.trim() : ref);
        // Only a finished pipeline has a conclusion.
        expect(rest.native.conclusion === null).toBe(!['SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED'].includes(rest.status));
      }),
    );
  });

  it('should show a bridge as a job labelled as a trigger, pointing at its downstream pipeline', () => {
    const bridge = toJob('gl', {
      id: 9, name: 'trigger-child', stage: 'downstream', status: 'success', allow_failure: false, created_at: '2024-01-01T00:00:00.000Z',
      pipeline: { id: 6, project_id: 1 }, downstream_pipeline: { id: 7, project_id: 1, status: 'success' },
    });
    expect(bridge.labels).toEqual([BRIDGE_LABEL, 'downstream:1/pipelines/7']);
  });

  it('should parse both timestamp styles', () => {
    expect(isoTime('2016-08-12 15:23:28 UTC')).toBe('2016-08-12T15:23:28.000Z');
    expect(isoTime('2016-08-12 17:23:28 +0200')).toBe('2016-08-12T15:23:28.000Z');
    expect(isoTime('2016-08-12T15:23:28.123Z')).toBe('2016-08-12T15:23:28.123Z');
    expect(isoTime('nonsense')).toBeNull();
  });

  it('should round-trip native ids and reject malformed ones', () => {
    expect(parsePipelineId(formatPipelineId(12, 34))).toEqual({ projectId: '12', pipelineId: '34' });
    expect(parseJobId(formatJobId('12', '56'))).toEqual({ projectId: '12', jobId: '56' });
    for (const bad of ['', '12/pipelines/x', 'a/b/pipelines/1', '0/jobs/1', '12/jobs/1/extra']) {
      expect(parsePipelineId(bad)).toBeNull();
      expect(parseJobId(bad)).toBeNull();
    }
  });

  it('should be total over noisy input: a model or GitlabPayloadError, never another exception', () => {
    const fns = [
      (x: unknown) => fromJobHook('gl', x), (x: unknown) => fromPipelineHook('gl', x), (x: unknown) => toJob('gl', x),
      (x: unknown) => toPipeline('gl', x), (x: unknown) => toRunner('gl', x, 0), (x: unknown) => toProject('gl', x),
    ];
    const noisy = fc.oneof(
      fc.anything(),
      fc.record({ ...Object.fromEntries(Object.keys(JOB_HOOK).map((k) => [k, fc.anything()])) }),
      fc.record({ build_id: fc.nat(), project_id: fc.nat(), pipeline_id: fc.nat(), build_status: fc.string(), build_failure_reason: fc.anything(), build_created_at: fc.string() }),
    );
    fc.assert(
      fc.property(noisy, (x) => {
        for (const f of fns) {
          try {
            const m = f(x);
            expect(m).toBeDefined();
          } catch (error) {
            expect(error).toBeInstanceOf(GitlabPayloadError);
          }
        }
      }),
    );
  });

  it('should order job observations by lifecycle, whatever the timestamps', () => {
    const order = ['created', 'manual', 'waiting_for_resource', 'pending', 'running', 'canceling', 'canceled'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: order.length - 2 }), fc.integer({ min: 1, max: order.length - 1 }), (i, d) => {
        const j = Math.min(order.length - 1, i + d);
        const a = fromJobHook('gl', { ...JOB_HOOK, build_status: order[i] });
        const b = fromJobHook('gl', { ...JOB_HOOK, build_status: order[j] });
        expect(compareRevisions(b.revision, a.revision)).toBeGreaterThan(0);
      }),
    );
  });
});
