/** Text the CLI shows: a status is a symbol *and* its name (never colour alone), durations are short. */

const SYMBOLS: Readonly<Record<string, string>> = {
  PENDING: '○', QUEUED: '○', WAITING: '◷', RUNNING: '●', CANCELING: '⊘',
  SUCCESS: '✓', UNSTABLE: '!', FAILURE: '✗', TIMED_OUT: '✗', ERROR: '✗', CANCELED: '⊘', SKIPPED: '-', UNKNOWN: '?',
};

export const TERMINAL = new Set(['SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED']);
/** What `--exit-status` counts as a failed pipeline. */
export const FAILED = new Set(['FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED']);

export const statusText = (status: string): string => `${SYMBOLS[status] ?? '?'} ${status}`;

/** 75 → "1m15s", 3700 → "1h01m", 4.2 → "4s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An aligned table: a header row and left-aligned columns, two spaces apart. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export const shortSha = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '');
