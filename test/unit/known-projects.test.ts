import { describe, expect, it } from 'vitest';
import { KnownProjects, type ProjectColumns } from '../../src/history/known-projects.ts';

const rows = (...projects: [string, string, string | null][]): ProjectColumns => [projects.map((p) => p[0]), projects.map((p) => p[1]), projects.map((p) => p[2])];

describe('KnownProjects', () => {
  it('leaves out what it wrote within the ttl, and asks again once it lapsed', () => {
    let now = 0;
    const known = new KnownProjects(60_000, 100, () => now);
    const batch = rows(['gh', 'acme/api', 'acme/api'], ['gh', 'acme/web', null]);
    expect(known.unknown(batch)).toEqual(batch);
    known.remember(batch);
    expect(known.unknown(batch)).toBeNull();
    // A name learned later is new: it must reach history_projects.
    expect(known.unknown(rows(['gh', 'acme/web', 'acme/web']))).toEqual(rows(['gh', 'acme/web', 'acme/web']));
    now = 60_000;
    expect(known.unknown(batch)).toEqual(batch);
  });

  it('forgets everything on clear (a retention pass) and stays bounded', () => {
    const known = new KnownProjects(60_000, 2, () => 0);
    known.remember(rows(['gh', 'a', null], ['gh', 'b', null]));
    expect(known.unknown(rows(['gh', 'a', null]))).toBeNull();
    known.remember(rows(['gh', 'c', null]));
    // Past maxEntries the memory starts over rather than grow.
    expect(known.unknown(rows(['gh', 'a', null]))).toEqual(rows(['gh', 'a', null]));
    known.clear();
    expect(known.unknown(rows(['gh', 'c', null]))).toEqual(rows(['gh', 'c', null]));
  });
});
