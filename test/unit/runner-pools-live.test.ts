import { describe, expect, it } from 'vitest';
import { compileScope } from '../../src/auth/scope.ts';
import type { JobModel } from '../../src/model.ts';
import { livePools, selectPools } from '../../src/pools/live-pools.ts';
import { jobInPool, normalizeLabels, poolKey, poolOf, satisfies } from '../../src/pools/pool-labels.ts';
import { percentileCont } from '../../src/pools/percentiles.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { at, job, runner } from '../helpers/ci-models.ts';

const ALL = compileScope({ backends: ['*'] });
const hosted = (j: JobModel) => j.runnerNativeId?.startsWith('hosted:') === true;

function world(): LiveState {
  const state = new LiveState();
  const apply = (e: Parameters<LiveState['apply']>[0]) => state.apply(e, 0);
  // GitHub lists the implicit labels with each self-hosted runner: self-hosted, OS, architecture.
  apply(runner('x64-1', ['self-hosted', 'Linux', 'X64']));
  apply(runner('x64-2', ['self-hosted', 'Linux', 'X64'], { state: 'BUSY' }));
  apply(runner('arm-1', ['self-hosted', 'Linux', 'ARM64'], { paused: true }));
  apply(runner('gpu-1', ['self-hosted', 'Linux', 'X64', 'gpu'], { state: 'OFFLINE' }));
  apply(runner('mac-1', ['self-hosted', 'macOS', 'ARM64'], { state: 'STALE' }));
  apply(runner('other-backend', ['self-hosted', 'Linux', 'X64'], { backend: 'gl' }));
  apply(job('q1', { status: 'QUEUED', labels: ['self-hosted', 'linux'], queuedAt: at('09:50') }));
  apply(job('q2', { status: 'QUEUED', labels: ['linux', 'self-hosted', 'Linux'], queuedAt: at('09:40') }));
  apply(job('q3', { status: 'QUEUED', labels: ['self-hosted', 'linux', 'gpu'], queuedAt: at('09:55') }));
  apply(job('hidden', { status: 'QUEUED', labels: ['self-hosted', 'linux'], projectNativeId: 'secret/ops', queuedAt: at('09:00') }));
  // Not waiting for a runner: PENDING (not queued yet) and WAITING (held by an approval).
  apply(job('pending', { status: 'PENDING', labels: ['self-hosted', 'linux'] }));
  apply(job('approval', { status: 'WAITING', waitReason: 'APPROVAL', labels: ['self-hosted', 'linux'] }));
  apply(job('ran', { status: 'SUCCESS', labels: ['self-hosted', 'linux'], queuedAt: at('09:30'), startedAt: at('09:32'), finishedAt: at('09:40') }));
  apply(job('h1', { status: 'RUNNING', labels: ['ubuntu-latest'], runnerNativeId: 'hosted:1', startedAt: at('09:58'), createdAt: at('09:57') }));
  return state;
}

describe('runner pool matching', () => {
  it('normalizes labels: trimmed, lower case, sorted, without duplicates or empties', () => {
    expect(normalizeLabels([' Self-Hosted', 'linux', 'LINUX', '', 'X64'])).toEqual(['linux', 'self-hosted', 'x64']);
    expect(poolKey('gh', ['Linux', 'self-hosted'])).toBe('gh:linux,self-hosted');
  });

  it('a runner satisfies a pool when it has every label of it; a job is in the pool with exactly its labels', () => {
    const pool = poolOf('gh', ['self-hosted', 'linux']);
    expect(satisfies(['self-hosted', 'Linux', 'X64'], pool)).toBe(true);
    expect(satisfies(['self-hosted', 'macOS'], pool)).toBe(false);
    expect(satisfies(['anything'], poolOf('gh', []))).toBe(true);
    expect(jobInPool(job('a', { labels: ['Linux', 'self-hosted'] }), pool)).toBe(true);
    expect(jobInPool(job('b', { labels: ['self-hosted', 'linux', 'gpu'] }), pool)).toBe(false);
    expect(jobInPool(job('c', { labels: ['self-hosted', 'linux'], backend: 'gl' }), pool)).toBe(false);
  });

  it('counts the runners and queued jobs of each pool the live jobs ask for', () => {
    const state = world();
    const pools = selectPools(state, ['gh'], ALL, null);
    expect(pools.map((p) => poolKey(p.backend, p.labels)).sort()).toEqual(['gh:gpu,linux,self-hosted', 'gh:linux,self-hosted', 'gh:ubuntu-latest']);
    const figures = new Map(livePools(state, pools, { scope: ALL, onHostedRunner: hosted, now: new Date(at('10:00')) }).map((p) => [p.key, p]));
    const linux = figures.get('gh:linux,self-hosted')!;
    expect(linux.runners).toEqual({ online: 3, busy: 1, idle: 1, paused: 1, offline: 1, total: 4, hostedBusy: 0 });
    expect(linux.queue).toEqual({ depth: 3, oldestQueuedAt: at('09:00') });
    expect(linux.liveWaitsLastHourMs).toEqual([120_000]);
    const gpu = figures.get('gh:gpu,linux,self-hosted')!;
    expect(gpu.runners).toEqual({ online: 0, busy: 0, idle: 0, paused: 0, offline: 1, total: 1, hostedBusy: 0 });
    expect(gpu.queue.depth).toBe(1);
    const ubuntu = figures.get('gh:ubuntu-latest')!;
    expect(ubuntu.hosted).toBe(true);
    expect(ubuntu.runners).toEqual({ online: 0, busy: 0, idle: 0, paused: 0, offline: 0, total: 0, hostedBusy: 1 });
  });

  it('a restricted caller: jobs of hidden projects do not count, and runners are null without runner visibility', () => {
    const state = world();
    const projectOnly = compileScope({ backends: ['gh'], projects: ['acme/*'] });
    const [linux] = livePools(state, [poolOf('gh', ['self-hosted', 'linux'])], { scope: projectOnly, onHostedRunner: hosted, now: new Date(at('10:00')) });
    expect(linux!.queue).toEqual({ depth: 2, oldestQueuedAt: at('09:40') });
    expect(linux!.runners).toBeNull();
    const withRunners = compileScope({ backends: ['gh'], projects: ['acme/*'], runners: true });
    const [again] = livePools(state, [poolOf('gh', ['self-hosted', 'linux'])], { scope: withRunners, onHostedRunner: hosted, now: new Date(at('10:00')) });
    expect(again!.runners?.total).toBe(4);
    expect(selectPools(state, ['gh'], compileScope({ backends: ['gh'], projects: ['secret/*'] }), null).map((p) => p.labels)).toEqual([['linux', 'self-hosted']]);
  });

  it('percentiles interpolate between ranks like percentile_cont', () => {
    expect(percentileCont([40, 10, 30, 20], 0.5)).toBe(25);
    expect(percentileCont([10, 20, 30, 40], 0.95)).toBeCloseTo(38.5);
    expect(percentileCont([], 0.5)).toBeNull();
  });
});
