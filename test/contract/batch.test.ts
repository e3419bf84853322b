import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendAdapter } from '../../src/adapter-contract.ts';
import type { ContractUpstream } from '../../src/adapter-testing.ts';
import { createAdapter } from './adapter-context.ts';
import { contractSubjects } from './kits.ts';

/**
 * DataLoader's batch-function contract (ADAPTERS.md §6), over each adapter's
 * simulator or fake: the answer has the keys' length and order (repeated keys
 * included), an unknown or out-of-scope id is `null`, and a key that could not
 * be read is an `Error` in its own slot.
 */
const subjects = await contractSubjects();

type Slot = { readonly nativeId: string } | null | Error | readonly unknown[];
const ids = (slots: readonly Slot[]) => slots.map((s) => (s === null ? null : s instanceof Error ? 'Error' : Array.isArray(s) ? 'list' : (s as { nativeId: string }).nativeId));

describe.each(subjects)('batch functions: $provider', (subject) => {
  let upstream: ContractUpstream;
  let adapter: BackendAdapter;
  let pipelines: string[];
  beforeAll(async () => {
    upstream = await subject.kit.startUpstream();
    adapter = createAdapter(subject, upstream.backend);
    pipelines = (await adapter.listPipelines({ limit: 3 })).map((p) => p.nativeId);
    expect(pipelines.length, 'the upstream lists at least two pipelines').toBeGreaterThanOrEqual(2);
  });
  afterAll(async () => {
    await adapter?.dispose();
    await upstream?.stop();
  });

  it('pipelines: keys length and order, repeats, null for unknown ids', async () => {
    const [a, b] = pipelines as [string, string];
    const unknown = subject.kit.unknownIds.pipelines;
    const keys = [b, unknown[0]!, a, b, ...unknown.slice(1)];
    expect(ids(await adapter.batch.pipelines(keys))).toEqual([b, null, a, b, ...unknown.slice(1).map(() => null)]);
  });

  it('jobs and jobsOfPipelines: keys length and order, null for unknown ids', async () => {
    const lists = await adapter.batch.jobsOfPipelines([...pipelines].reverse());
    expect(lists).toHaveLength(pipelines.length);
    const jobIds = lists.flatMap((l) => (l instanceof Error ? [] : l.map((j) => j.nativeId)));
    for (const [i, list] of lists.entries()) {
      if (list instanceof Error) throw list;
      for (const job of list) expect(job.pipelineNativeId).toBe([...pipelines].reverse()[i]);
    }
    expect(jobIds.length).toBeGreaterThan(0);
    const picked = [jobIds.at(-1)!, jobIds[0]!];
    const unknown = subject.kit.unknownIds.jobs;
    expect(ids(await adapter.batch.jobs([picked[0]!, ...unknown, picked[1]!]))).toEqual([picked[0], ...unknown.map(() => null), picked[1]]);
  });

  it('jobAttemptsOfPipelines (where an adapter has it): keys length and order, attempts 1..n per name, the latest of each is jobsOfPipelines', async () => {
    // Optional (ADAPTERS.md §6, Attempts): adapters whose retries are pipelines of their own have nothing to add.
    const attemptsOf = adapter.batch.jobAttemptsOfPipelines?.bind(adapter.batch);
    if (!attemptsOf) return;
    const keys = [...pipelines].reverse();
    const [all, latest] = await Promise.all([attemptsOf(keys), adapter.batch.jobsOfPipelines(keys)]);
    expect(all).toHaveLength(keys.length);
    for (const [i, list] of keys.entries()) {
      const attempts = all[i]!;
      const shown = latest[i]!;
      if (attempts instanceof Error) throw attempts;
      if (shown instanceof Error) throw shown;
      const byName = new Map<string, number[]>();
      for (const job of attempts) {
        expect(job.pipelineNativeId).toBe(list);
        byName.set(job.name, [...(byName.get(job.name) ?? []), job.attempt]);
      }
      for (const numbers of byName.values()) expect(numbers).toEqual(numbers.map((_, n) => n + 1));
      const newest = attempts.filter((j) => j.attempt === byName.get(j.name)!.length).map((j) => `${j.nativeId}#${j.attempt}`);
      expect(newest.sort()).toEqual(shown.map((j) => `${j.nativeId}#${j.attempt}`).sort());
    }
  });

  it('projects and runners: keys length and order', async () => {
    const projects = (await adapter.listProjects()).map((p) => p.nativeId).slice(0, 2).reverse();
    const unknown = subject.kit.unknownIds.projects;
    expect(ids(await adapter.batch.projects([...projects, ...unknown]))).toEqual([...projects, ...unknown.map(() => null)]);
    const runners = (await adapter.listRunners()).map((r) => r.nativeId).reverse();
    expect(ids(await adapter.batch.runners(runners))).toEqual(runners);
  });

  it('an upstream that cannot answer: an Error in every slot, never a rejected batch', async () => {
    // A fresh adapter (no caches) over an upstream that is gone.
    await upstream.stop();
    const orphan = createAdapter(subject, upstream.backend, 'contract-orphan');
    try {
      const slots = await orphan.batch.pipelines(pipelines);
      expect(slots).toHaveLength(pipelines.length);
      for (const slot of slots) expect(slot).toBeInstanceOf(Error);
    } finally {
      await orphan.dispose();
    }
  });
});
