/**
 * One source for error codes: every `extensions.code`, upstream code and
 * WebSocket close code in src/ and adapters/ comes from src/errors.ts by name.
 * (The types already refuse a code outside the table; this refuses spelling a
 * code out, so renaming one is one edit.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, WsCloseCode } from '../../src/errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Production sources: simulators answer as the providers do, with the providers' own codes. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter((p) => !p.includes('/simulator/') && !p.includes('__generated__') && p !== join('src', 'errors.ts') && p !== join('src', 'error-codes.ts'));
}

const SPELLED_OUT = [
  { what: 'an extensions code', pattern: /\bcode: ['"`][A-Z][A-Z_]+['"`]/ },
  { what: 'a table code as a string', pattern: new RegExp(`['"\`](${Object.values(ErrorCode).join('|')})['"\`]`) },
  { what: 'a WebSocket close code', pattern: /\b(close|closeCode)(\(|: )4\d{3}\b/ },
];

describe('error codes', () => {
  it('should have one name per code and one code per name', () => {
    expect(new Set(Object.values(ErrorCode)).size).toBe(Object.keys(ErrorCode).length);
    expect(new Set(Object.values(WsCloseCode)).size).toBe(Object.keys(WsCloseCode).length);
  });

  it('should be referenced through the table, never spelled out, in src/ and adapters/', () => {
    const found: string[] = [];
    for (const file of [...sources('src'), ...sources('adapters')]) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\*|\/\/)/.test(line)) return;
          for (const { what, pattern } of SPELLED_OUT) if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});
