import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CiStatus } from '../../src/model.ts';
import { notificationsConfigSchema, ruleConfigSchema, type RuleConfig } from '../../src/notify/notify-config.ts';
import { EMPTY_BRANCH, stepBranch, type BranchState, type FinishedPipeline } from '../../src/notify/rules/branch-transition.ts';
import { failingJobs } from '../../src/notify/rules/build-notification.ts';
import { episodeKey, pipelineKey } from '../../src/notify/rules/dedupe-key.ts';
import { failureCategory, pipelineCategory } from '../../src/notify/rules/failure-category.ts';
import { firingsFor } from '../../src/notify/rules/pipeline-rules.ts';
import { globMatches, matchesEverything, matchesPipeline } from '../../src/notify/rules/rule-match.ts';
import { formatDuration, pipelineSummary } from '../../src/notify/rules/summary.ts';
import { job } from '../helpers/ci-models.ts';

const FINISHES: CiStatus[] = ['SUCCESS', 'FAILURE', 'UNSTABLE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED'];
const NOW = '2026-01-01T12:00:00.000Z';
const finish = (i: number, status: CiStatus): FinishedPipeline => ({
  nativeId: `p${String(i).padStart(4, '0')}`, attempt: 1, createdAt: new Date(Date.UTC(2026, 0, 1, 10, 0, i)).toISOString(), status, finishedAt: null,
});

function run(statuses: readonly CiStatus[], start: BranchState = EMPTY_BRANCH, every = new Map<string, number>()) {
  let state = start;
  const fired: (string | null)[] = [];
  statuses.forEach((s, i) => {
    const step = stepBranch(state, finish(i, s), every, NOW);
    if (step.kind !== 'advance') throw new Error(`unexpected ${step.kind}`);
    fired.push(step.fired.transition);
    state = step.next;
  });
  return { fired, state };
}

describe('branch transitions', () => {
  it('the transition table: green→red failed, red→green fixed, red→red still-failing, cancel changes nothing', () => {
    const every = new Map([['r', 0]]);
    expect(run(['SUCCESS', 'FAILURE', 'FAILURE', 'CANCELED', 'SUCCESS', 'SKIPPED', 'SUCCESS'], EMPTY_BRANCH, every).fired)
      .toEqual([null, 'failed', 'still-failing', null, 'fixed', null, null]);
    // Unknown past: a first failure is failed, a first success is not fixed.
    expect(run(['SUCCESS']).fired).toEqual([null]);
    expect(run(['ERROR']).fired).toEqual(['failed']);
    // UNSTABLE and TIMED_OUT are red too.
    expect(run(['SUCCESS', 'UNSTABLE', 'SUCCESS', 'TIMED_OUT']).fired).toEqual([null, 'failed', 'fixed', 'failed']);
  });

  it('an older pipeline is stale, the same one a repeat of what it fired', () => {
    const first = stepBranch(EMPTY_BRANCH, finish(5, 'FAILURE'), new Map(), NOW);
    if (first.kind !== 'advance') throw new Error('advance expected');
    expect(stepBranch(first.next, finish(4, 'SUCCESS'), new Map(), NOW)).toEqual({ kind: 'stale' });
    expect(stepBranch(first.next, finish(5, 'FAILURE'), new Map(), NOW)).toMatchObject({ kind: 'repeat', fired: { transition: 'failed' } });
    // A re-run (attempt 2) of the same pipeline is a new finish.
    expect(stepBranch(first.next, { ...finish(5, 'SUCCESS'), attempt: 2 }, new Map(), NOW)).toMatchObject({ kind: 'advance', fired: { transition: 'fixed' } });
  });

  it('still-failing is rate limited per rule', () => {
    const every = new Map([['hourly', 3_600_000], ['always', 0]]);
    let state = run(['FAILURE']).state;
    const at = (iso: string, i: number) => {
      const step = stepBranch(state, finish(i, 'FAILURE'), every, iso);
      if (step.kind !== 'advance') throw new Error('advance expected');
      state = step.next;
      return step.fired.stillFailingRules;
    };
    expect(at('2026-01-01T12:00:00.000Z', 1)).toEqual(['hourly', 'always']);
    expect(at('2026-01-01T12:30:00.000Z', 2)).toEqual(['always']);
    expect(at('2026-01-01T13:00:00.000Z', 3)).toEqual(['hourly', 'always']);
  });

  it('property: for any finishes on a branch, failed and fixed alternate and never repeat', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...FINISHES), { maxLength: 60 }), (statuses) => {
      const edges = run(statuses).fired.filter((t) => t === 'failed' || t === 'fixed');
      for (let i = 1; i < edges.length; i++) expect(edges[i]).not.toBe(edges[i - 1]);
      if (edges.length > 0) expect(edges[0]).toBe('failed'); // an unknown past is never "fixed"
    }));
  });

  it('property: replaying any finish already seen, in any order, fires nothing new', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...FINISHES), { minLength: 1, maxLength: 30 }), fc.nat(), (statuses, pick) => {
      const { state } = run(statuses);
      const old = pick % statuses.length;
      const step = stepBranch(state, finish(old, statuses[old]!), new Map([['r', 0]]), NOW);
      expect(step.kind === 'stale' || step.kind === 'repeat').toBe(true);
    }));
  });
});

describe('failure categories', () => {
  it('maps statuses and runner-caused timeouts', () => {
    expect(failureCategory('ERROR', null)).toBe('infrastructure');
    expect(failureCategory('FAILURE', null)).toBe('code');
    expect(failureCategory('UNSTABLE', null)).toBe('code');
    expect(failureCategory('TIMED_OUT', { failureReason: 'job_execution_timeout', conclusion: null })).toBe('code');
    expect(failureCategory('TIMED_OUT', { failureReason: 'runner_system_failure', conclusion: null })).toBe('infrastructure');
    expect(failureCategory('TIMED_OUT', { failureReason: 'The self-hosted runner lost communication with the server.', conclusion: null })).toBe('infrastructure');
    expect(failureCategory('SUCCESS', null)).toBe('none');
    expect(failureCategory('CANCELED', null)).toBe('none');
  });

  it('a pipeline is code as soon as one job failed on the code', () => {
    expect(pipelineCategory('code', ['infrastructure', 'infrastructure'])).toBe('infrastructure');
    expect(pipelineCategory('infrastructure', ['infrastructure', 'code'])).toBe('code');
    expect(pipelineCategory('infrastructure', [])).toBe('infrastructure');
  });
});

const rule = (over: Record<string, unknown> = {}): RuleConfig => ruleConfigSchema.parse({ name: 'r', on: ['failed'], sinks: ['s'], ...over });

describe('matching', () => {
  const subject = { backend: 'gh', project: { nativeId: '42', fullName: 'acme/api', defaultBranch: 'main' }, branch: 'main', pipelineName: 'CI build' };

  it('globs match `*` inside names only', () => {
    expect(globMatches('CI*', 'CI build')).toBe(true);
    expect(globMatches('*build', 'CI build')).toBe(true);
    expect(globMatches('CI', 'CI build')).toBe(false);
    expect(globMatches('a.b', 'axb')).toBe(false);
    fc.assert(fc.property(fc.string(), (name) => globMatches('*', name) && globMatches(name.replace(/\*/g, ''), name.replace(/\*/g, ''))));
  });

  it('backends, projects (full name or native id), branches ($default, *), pipeline names', () => {
    expect(matchesPipeline(rule(), subject)).toBe(true);
    expect(matchesPipeline(rule(), { ...subject, branch: 'feature' })).toBe(false);
    expect(matchesPipeline(rule({ match: { branches: ['*'] } }), { ...subject, branch: null })).toBe(true);
    expect(matchesPipeline(rule({ match: { branches: ['release/*'] } }), { ...subject, branch: 'release/1.2' })).toBe(true);
    expect(matchesPipeline(rule(), { ...subject, project: { ...subject.project, defaultBranch: null } })).toBe(false);
    expect(matchesPipeline(rule({ match: { backends: ['gl'] } }), subject)).toBe(false);
    expect(matchesPipeline(rule({ match: { projects: ['acme/*'] } }), subject)).toBe(true);
    expect(matchesPipeline(rule({ match: { projects: ['42'] } }), subject)).toBe(true);
    expect(matchesPipeline(rule({ match: { projects: ['other/*'] } }), subject)).toBe(false);
    expect(matchesPipeline(rule({ match: { pipelines: ['CI*'] } }), subject)).toBe(true);
    expect(matchesPipeline(rule({ match: { pipelines: ['deploy'] } }), subject)).toBe(false);
  });

  it('knows a rule that matches everything', () => {
    expect(matchesEverything(rule({ match: { branches: ['*'] } }))).toBe(true);
    expect(matchesEverything(rule({ match: { branches: ['*'], projects: ['**'] } }))).toBe(true);
    expect(matchesEverything(rule())).toBe(false);
    expect(matchesEverything(rule({ match: { branches: ['*'], jobs: ['lint'] } }))).toBe(false);
  });

  it('fires the triggers a rule lists; still-failing only for the rules its rate limit let through', () => {
    const a = rule({ name: 'a', on: ['failed', 'still-failing', 'finished'] });
    const b = rule({ name: 'b', on: ['still-failing', 'canceled'] });
    const still = { transition: 'still-failing' as const, stillFailingRules: ['b'], red: null };
    expect(firingsFor([a, b], { status: 'FAILURE' }, still).map((f) => `${f.rule.name}:${f.trigger}`)).toEqual(['a:finished', 'b:still-failing']);
    expect(firingsFor([a, b], { status: 'CANCELED' }, null).map((f) => `${f.rule.name}:${f.trigger}`)).toEqual(['a:finished', 'b:canceled']);
  });
});

describe('dedupe keys', () => {
  it('name the rule, trigger and pipeline attempt; never collide across fields', () => {
    expect(pipelineKey('default-branch', 'failed', 'gh', '123', 2)).toBe('default-branch|failed|gh|123#2');
    expect(pipelineKey('r', 'failed', 'gh', 'a|b', 1)).not.toBe(pipelineKey('r', 'failed', 'gh|a', 'b', 1));
    expect(episodeKey('r', 'queued-longer-than', 'gh', 'job:1#1', '2026-01-01T10:00:00.000Z')).toBe('r|queued-longer-than|gh|job:1\\#1|2026-01-01T10:00:00.000Z');
    fc.assert(fc.property(fc.tuple(fc.string(), fc.string(), fc.nat()), fc.tuple(fc.string(), fc.string(), fc.nat()), ([b1, n1, a1], [b2, n2, a2]) => {
      const same = b1 === b2 && n1 === n2 && a1 === a2;
      expect(pipelineKey('r', 'failed', b1, n1, a1) === pipelineKey('r', 'failed', b2, n2, a2)).toBe(same);
    }));
  });
});

describe('summaries', () => {
  it('reads like a sentence', () => {
    expect(formatDuration(252_000)).toBe('4m 12s');
    expect(formatDuration(3_780_000)).toBe('1h 3m');
    expect(formatDuration(12_000)).toBe('12s');
    expect(pipelineSummary({ trigger: 'failed', project: 'acme/api', branch: 'main', pipelineName: 'CI', status: 'FAILURE', durationMs: 252_000,
      failingJobs: [{ name: 'test', flaky: false }, { name: 'lint', flaky: false }], red: null })).toBe('acme/api main: CI failed (2 jobs: test, lint) after 4m 12s');
    expect(pipelineSummary({ trigger: 'still-failing', project: 'acme/api', branch: 'main', pipelineName: 'CI', status: 'FAILURE', durationMs: null,
      failingJobs: [{ name: 'a', flaky: false }, { name: 'b', flaky: true }, { name: 'c', flaky: false }, { name: 'd', flaky: false }], red: { since: NOW, pipelines: 3 } }))
      .toBe('acme/api main: CI still failing (4 jobs: a, b (flaky), c, +1 more), 3 red pipelines in a row');
    expect(pipelineSummary({ trigger: 'finished', project: 'acme/api', branch: null, pipelineName: '#7', status: 'TIMED_OUT', durationMs: 1000, failingJobs: [], red: null }))
      .toBe('acme/api: #7 finished timed out after 1s');
  });
});

describe('failing jobs', () => {
  it('keeps the newest attempt of each name: a retried job that passed is not failing', () => {
    const jobs = [
      job('1', { name: 'test', status: 'FAILURE', attempt: 1 }), job('2', { name: 'test', status: 'SUCCESS', attempt: 2 }),
      job('3', { name: 'lint', status: 'TIMED_OUT' }), job('4', { name: 'build', status: 'SUCCESS' }),
    ];
    expect(failingJobs(jobs).map((j) => j.name)).toEqual(['lint']);
  });
});

describe('config', () => {
  it('the demo-like config parses', () => {
    expect(() => notificationsConfigSchema.parse({ sinks: [{ type: 'log', name: 'demo-log', watchable: true }], rules: [{ name: 'x', on: ['failed'], sinks: ['demo-log'] }] })).not.toThrow();
  });
});

describe('demo defaults', () => {
  it('parse, and no rule of them matches everything', async () => {
    const { demoNotifications } = await import('../../src/demo/start-demo.ts');
    const parsed = notificationsConfigSchema.parse(demoNotifications(['github-demo', 'gitlab-demo']));
    expect(parsed.rules.map((r) => [r.name, matchesEverything(r)])).toEqual([['branches', false], ['platform', false]]);
    expect(parsed.rules[1]!.route).toEqual({ infrastructure: ['demo-log'] });
  });
});
