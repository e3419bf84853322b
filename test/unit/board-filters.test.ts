import { describe, expect, it } from 'vitest';
import { filtersQuery, projectMatcher, readFilters } from '../../src/board/ui/filters.ts';

describe('board filters', () => {
  it('match project patterns as API key scopes do: `*` one level, `**` any depth, case-insensitive', () => {
    const matches = projectMatcher(readFilters('?project=octo-org/*,Platform/**'));
    expect(matches('octo-org/api')).toBe(true);
    expect(matches('octo-org/api/sub')).toBe(false);
    expect(matches('platform/infra/terraform')).toBe(true);
    expect(matches('PLATFORM/deploy')).toBe(true);
    expect(matches('team-a/lint')).toBe(false);
    expect(matches('octo-org.api')).toBe(false);
    expect(projectMatcher(readFilters(''))('anything/at/all')).toBe(true);
  });

  it('round-trip through the URL, leaving out what is default', () => {
    const f = readFilters('?backend=github-demo&project=acme%2F**&branch=main&label=linux&view=analytics');
    expect(f).toEqual({ backend: 'github-demo', project: 'acme/**', branch: 'main', label: 'linux', view: 'analytics' });
    expect(readFilters(filtersQuery(f))).toEqual(f);
    expect(filtersQuery(readFilters('?view=wall'))).toBe('');
  });
});
