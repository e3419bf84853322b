/**
 * Redaction of secrets CI failed to mask: the configured patterns, applied to each line before
 * anything reaches a client or the chunk bus. Lines are whole (chunks are cut at lines), so a
 * match never spans two chunks.
 */
export const REDACTED = '[REDACTED]';

export type LineRedactor = (line: string) => string;

/** Compiles the configured patterns (validated at load: see log-config.ts); none: the identity. */
export function compileRedactor(patterns: readonly string[]): LineRedactor {
  if (patterns.length === 0) return (line) => line;
  const compiled = patterns.map((p) => new RegExp(p, 'g'));
  return (line) => {
    let out = line;
    for (const pattern of compiled) out = out.replace(pattern, REDACTED);
    return out;
  };
}

/** Why a pattern cannot be used, or null: empty matches would redact between every character. */
export function redactPatternProblem(pattern: string): string | null {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'g');
  } catch (error) {
    return `not a valid regular expression (${(error as Error).message})`;
  }
  return regex.test('') ? 'matches the empty string' : null;
}
