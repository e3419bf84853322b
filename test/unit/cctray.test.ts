/**
 * The CCTray feed's pure parts: the status mapping for every CiStatus, entry building (verdict
 * of the newest finished pipeline, naming, filters), the query parser, and XML escaping
 * (property-based: any project name gives a well-formed feed that reads back as written).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CI_STATUSES, type CiStatus } from '../../src/model.ts';
import { buildCctrayEntries, type FeedProject, type FeedRun } from '../../src/notify/cctray/cctray-entries.ts';
import { CctrayQueryError, parseCctrayQuery, type CctrayFilter } from '../../src/notify/cctray/cctray-query.ts';
import { CCTRAY_ACTIVITY, CCTRAY_BUILD_STATUS } from '../../src/notify/cctray/cctray-status.ts';
import { renderCctrayXml, xmlSafe } from '../../src/notify/cctray/cctray-xml.ts';
import { parseFeed } from '../helpers/cctray-feed.ts';

const ALL: CctrayFilter = { backends: null, projects: null, branches: 'default', pipelines: null, statuses: null };
const PROJECT: FeedProject = { fullName: 'octo-org/api', url: 'https://ci.test/octo-org/api', defaultBranch: 'main' };

let seq = 0;
function run(status: CiStatus, minute: number, extra: Partial<FeedRun> = {}): FeedRun {
  seq++;
  const at = new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString();
  return {
    backend: 'gh', nativeId: `octo-org/api/runs/${seq}`, projectNativeId: 'octo-org/api', number: seq, name: 'CI', status, branch: 'main',
    url: `https://ci.test/runs/${seq}`, attempt: 1, createdAt: at, finishedAt: CCTRAY_BUILD_STATUS[status] ? at.replace('T10', 'T11') : null, ...extra,
  };
}

const entries = (runs: FeedRun[], filter: CctrayFilter = ALL, project: FeedProject | null = PROJECT) =>
  buildCctrayEntries({ runs, projectOf: () => project, allowed: () => true, filter });

describe('CCTray status mapping', () => {
  it('should map every CiStatus, as ci-backends.md §4.5 projects them', () => {
    const table = Object.fromEntries(CI_STATUSES.map((s) => [s, `${CCTRAY_ACTIVITY[s]}/${CCTRAY_BUILD_STATUS[s] ?? 'previous'}`]));
    expect(table).toEqual({
      PENDING: 'CheckingModifications/previous', QUEUED: 'CheckingModifications/previous', WAITING: 'CheckingModifications/previous',
      RUNNING: 'Building/previous', CANCELING: 'Building/previous',
      SUCCESS: 'Sleeping/Success', UNSTABLE: 'Sleeping/Failure', FAILURE: 'Sleeping/Failure', TIMED_OUT: 'Sleeping/Failure',
      ERROR: 'Sleeping/Exception', CANCELED: 'Sleeping/Unknown', SKIPPED: 'Sleeping/Unknown', UNKNOWN: 'Sleeping/previous',
    });
  });
});

describe('CCTray entries', () => {
  it('should take the verdict from the newest finished pipeline and the activity from the newest one', () => {
    const failed = run('FAILURE', 1);
    const building = run('RUNNING', 2);
    const [entry] = entries([building, failed]);
    expect(entry).toEqual({
      name: 'gh/octo-org/api', activity: 'Building', lastBuildStatus: 'Failure', lastBuildLabel: String(failed.number),
      lastBuildTime: failed.finishedAt, webUrl: building.url,
    });
  });

  it('should show Unknown, no label and the creation time before any pipeline finished', () => {
    const queued = run('QUEUED', 3, { url: null });
    expect(entries([queued])).toEqual([{ name: 'gh/octo-org/api', activity: 'CheckingModifications', lastBuildStatus: 'Unknown', lastBuildLabel: null, lastBuildTime: queued.createdAt, webUrl: PROJECT.url }]);
  });

  it('should name each pipeline when a project has several, whatever the filter', () => {
    const runs = [run('SUCCESS', 1), run('ERROR', 2, { name: 'Deploy' })];
    expect(entries(runs).map((e) => `${e.name}=${e.lastBuildStatus}`)).toEqual(['gh/octo-org/api :: CI=Success', 'gh/octo-org/api :: Deploy=Exception']);
    expect(entries(runs, { ...ALL, pipelines: ['Deploy'] }).map((e) => e.name)).toEqual(['gh/octo-org/api :: Deploy']);
  });

  it('should keep to the default branch unless asked, and label attempts', () => {
    const runs = [run('SUCCESS', 1), run('FAILURE', 2, { branch: 'feature/x', attempt: 2 })];
    expect(entries(runs).map((e) => e.name)).toEqual(['gh/octo-org/api']);
    expect(entries(runs, { ...ALL, branches: 'all' }).map((e) => `${e.name}=${e.lastBuildStatus}`)).toEqual(['gh/octo-org/api @ feature/x=Failure', 'gh/octo-org/api @ main=Success']);
    expect(entries(runs, { ...ALL, branches: ['feature/x'] })[0]!.lastBuildLabel).toBe(`${runs[1]!.number}.2`);
  });

  it('should list a project without a default branch (a plain Jenkins job) whatever its builds record', () => {
    const job: FeedProject = { fullName: 'folder/deploy', url: null, defaultBranch: null };
    const runs = [run('SUCCESS', 1, { branch: null }), run('FAILURE', 2, { branch: 'origin-main' })];
    expect(entries(runs, ALL, job).map((e) => `${e.name}=${e.lastBuildStatus}`)).toEqual(['gh/folder/deploy=Failure']);
    expect(entries(runs, { ...ALL, branches: 'all' }, job).map((e) => e.name)).toEqual(['gh/folder/deploy', 'gh/folder/deploy @ origin-main']);
    expect(entries(runs, { ...ALL, branches: ['main'] }, job)).toEqual([]);
  });

  it('should leave out projects it cannot name, the caller may not see, or the filters exclude', () => {
    expect(entries([run('SUCCESS', 1)], ALL, null)).toEqual([]);
    expect(buildCctrayEntries({ runs: [run('SUCCESS', 1)], projectOf: () => PROJECT, allowed: () => false, filter: ALL })).toEqual([]);
    expect(entries([run('SUCCESS', 1)], { ...ALL, statuses: ['Failure'] })).toEqual([]);
    expect(entries([run('SUCCESS', 1)], { ...ALL, projects: ['other/*'] })).toEqual([]);
    expect(entries([run('SUCCESS', 1)], { ...ALL, backends: ['jenkins'] })).toEqual([]);
  });
});

describe('CCTray query', () => {
  const parse = (q: string) => parseCctrayQuery(new URLSearchParams(q), (b) => b === 'gh' || b === 'gl');
  it('should read repeated parameters and keep commas inside names', () => {
    expect(parse('backend=gh&backend=gl&branch=a,b&pipeline=Build, test&status=failure')).toEqual({
      backends: ['gh', 'gl'], projects: null, branches: ['a,b'], pipelines: ['Build, test'], statuses: ['Failure'],
    });
    expect(parse('').branches).toBe('default');
    expect(parse('branch=*').branches).toBe('all');
  });
  it('should refuse what it cannot serve, naming the parameter', () => {
    for (const [q, m] of [['backend=x', /"backend"/], ['project=', /"project"/], ['project=a/**b', /"project"/], ['status=green', /"status"/], ['x=1', /unknown parameter "x"/]] as const) {
      expect(() => parse(q), q).toThrow(CctrayQueryError);
      expect(() => parse(q), q).toThrow(m);
    }
  });
});

describe('CCTray XML', () => {
  it('should give a well-formed feed that reads back as written for any name, label and URL', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const withMarkup = fc.array(fc.oneof(text, fc.constantFrom('<', '>', '&', '"', "'", '&amp;', ']]>', '\u0000', '\u0001', '\u001f', '\ud800', '\ufffe', '\n')), { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.array(fc.record({ name: withMarkup.filter((s) => s.length > 0), label: withMarkup, url: withMarkup }), { maxLength: 5 }), (rows) => {
        const feed = rows.map((r, i) => ({
          name: `${i}:${r.name}`, activity: 'Sleeping' as const, lastBuildStatus: 'Failure' as const, lastBuildLabel: r.label,
          lastBuildTime: '2026-01-01T10:00:00.000Z', webUrl: r.url,
        }));
        const parsed = parseFeed(renderCctrayXml(feed));
        expect(parsed.map((p) => [p.name, p.lastBuildLabel, p.webUrl])).toEqual(feed.map((e) => [xmlSafe(e.name), xmlSafe(e.lastBuildLabel), xmlSafe(e.webUrl)]));
      }),
      { numRuns: 300 },
    );
  });
});
