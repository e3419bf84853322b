/** What the board shows, kept in the URL's query string so a link or a TV screen reproduces the view. */
export interface BoardFilters {
  readonly backend: string;
  /** Project full names or patterns, comma-separated: `acme/api`, `acme/*`, `acme/**`. */
  readonly project: string;
  /** Empty: each project's default branch. */
  readonly branch: string;
  /** A runner label: pools that ask for it. */
  readonly label: string;
  readonly view: 'wall' | 'analytics';
}

export function readFilters(search: string): BoardFilters {
  const q = new URLSearchParams(search);
  const get = (k: string) => (q.get(k) ?? '').trim();
  return { backend: get('backend'), project: get('project'), branch: get('branch'), label: get('label'), view: get('view') === 'analytics' ? 'analytics' : 'wall' };
}

export function filtersQuery(f: BoardFilters): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v && !(k === 'view' && v === 'wall')) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function projectPatterns(f: BoardFilters): string[] {
  return f.project.split(',').map((p) => p.trim()).filter(Boolean);
}

/** The API key scope syntax: `*` one path level, `**` any depth; case-insensitive. */
function patternRegex(pattern: string): RegExp {
  const body = pattern.toLowerCase().split('**').map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * Matches client-side too: a gateway that does not know `projectNames` yet ignores it,
 * and the board still shows only what was asked for.
 */
export function projectMatcher(f: BoardFilters): (fullName: string) => boolean {
  const patterns = projectPatterns(f).map(patternRegex);
  return patterns.length === 0 ? () => true : (name) => patterns.some((r) => r.test(name.toLowerCase()));
}
