import { redactString, REDACTED } from './audit/redact.ts';

/**
 * Text that came from an upstream (error bodies, reasons, transport messages)
 * is reflected to clients in GraphQL errors and Backend.health. An upstream,
 * or a proxy in front of it, may echo credentials: tokens, `user:pw@` URLs,
 * `?private_token=` queries. This is applied where every UpstreamError message
 * is built, so no adapter can forget it.
 */

/** Longest message kept (after redaction, so a cut never exposes part of a secret). */
export const MAX_UPSTREAM_TEXT = 300;

const EXTRA_PATTERNS: readonly [RegExp, string][] = [
  // Any userinfo in a URL (user:pw@ or token@), not only user:pw.
  [/(?<=[A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@]+@/g, `${REDACTED}@`],
  // Authorization schemes, also glued to preceding text.
  [/(?:Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=-]{6,}/gi, REDACTED],
  // key=value / key: value pairs whose key names a credential (query strings, JSON, headers).
  [/([A-Za-z0-9_-]*(?:token|secret|password|passwd|pwd|api[-_]?key|apikey|auth[A-Za-z_]*|sig|signature|credential|session|cookie)[A-Za-z0-9_-]*"?\s*[=:]\s*"?)([^\s"'&,;}]+)/gi, `$1${REDACTED}`],
  // Long opaque runs with a digit (random tokens in lower case or hex); '/' excluded so API paths survive.
  [/[A-Za-z0-9+=_-]{32,}/g, ''],
];

function redactOpaqueRun(run: string): string {
  return /[0-9]/.test(run) && /[A-Za-z]/.test(run) ? REDACTED : run;
}

function stripControlCharacters(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code < 0x20 || code === 0x7f ? ' ' : ch;
  }
  return out;
}

/** One line, secrets replaced by `[redacted]`, at most MAX_UPSTREAM_TEXT characters. */
export function sanitizeUpstreamText(text: string): string {
  // Control characters would let an upstream forge log lines or hide text.
  let s = redactString(stripControlCharacters(text));
  for (const [re, replacement] of EXTRA_PATTERNS) {
    s = replacement === '' ? s.replace(re, redactOpaqueRun) : s.replace(re, replacement);
  }
  s = s.replace(/\s+/g, ' ').trim();
  return s.length > MAX_UPSTREAM_TEXT ? `${s.slice(0, MAX_UPSTREAM_TEXT - 3)}...` : s;
}
