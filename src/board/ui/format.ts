import type { CiStatus } from './types.ts';

/** Colour and a glyph and a word: the status reads the same without colour vision. */
export const STATUS: Record<CiStatus, { icon: string; text: string; tone: string }> = {
  SUCCESS: { icon: '✔', text: 'passed', tone: 'green' },
  FAILURE: { icon: '✖', text: 'failed', tone: 'red' },
  TIMED_OUT: { icon: '◷', text: 'timed out', tone: 'red' },
  ERROR: { icon: '⚠', text: 'CI error', tone: 'red' },
  RUNNING: { icon: '▶', text: 'running', tone: 'blue' },
  CANCELING: { icon: '■', text: 'canceling', tone: 'grey' },
  QUEUED: { icon: '◔', text: 'queued', tone: 'blue' },
  PENDING: { icon: '…', text: 'pending', tone: 'blue' },
  WAITING: { icon: '‖', text: 'waiting', tone: 'amber' },
  UNSTABLE: { icon: '◐', text: 'unstable', tone: 'amber' },
  CANCELED: { icon: '⊘', text: 'canceled', tone: 'grey' },
  SKIPPED: { icon: '↷', text: 'skipped', tone: 'grey' },
  UNKNOWN: { icon: '?', text: 'unknown', tone: 'grey' },
};

/** The failure category of a red status (as FailureCategory in the analytics schema). */
export const CATEGORY: Partial<Record<CiStatus, string>> = { FAILURE: 'code', TIMED_OUT: 'timed out', ERROR: 'infrastructure' };

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function since(iso: string, now: number): string {
  return duration((now - Date.parse(iso)) / 1000);
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Only http(s) links from a backend become anchors. */
export const safeUrl = (url: string | null | undefined): string | null => (url && /^https?:\/\//i.test(url) ? url : null);

export const PROVIDER: Record<string, string> = { GITHUB: 'GitHub', GITLAB: 'GitLab', JENKINS: 'Jenkins' };
export const providerName = (p: string) => PROVIDER[p] ?? p;
