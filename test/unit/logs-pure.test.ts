import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkRing } from '../../src/logs/chunk-ring.ts';
import { LogChunker } from '../../src/logs/log-chunker.ts';
import { encodeLogCursor, logOffsetOf, parseLogCursor } from '../../src/logs/log-cursor.ts';
import { jobLogOf, startOfLastLines } from '../../src/logs/log-read.ts';
import { compileRedactor, redactPatternProblem } from '../../src/logs/log-redaction.ts';
import { parseSectionLine } from '../../src/logs/log-sections.ts';
import type { LogChunkModel } from '../../src/logs/log-types.ts';
import { AdaptivePollInterval } from '../../src/logs/poll-interval.ts';
import { stripAnsi } from '../../src/logs/strip-ansi.ts';

const ESC = '\u001b';
const identity = (line: string) => line;
const bytesOf = (s: string) => Buffer.byteLength(s);

/** Log text: lines of mixed ASCII, multi-byte characters and ANSI codes. */
const logText = fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('größe ✓', '😀😀', `${ESC}[32mok${ESC}[0m`, '\r', '')), { maxLength: 40 })
  .map((parts) => parts.join('\n') + (parts.length % 2 === 0 ? '\n' : ''))
  .filter((s) => !s.includes('\u0000'));

/** Feeds `text` to a chunker in pieces cut at arbitrary byte positions (inside characters too). */
function chunkAll(text: string, cuts: readonly number[], maxChunkBytes: number, complete = true): LogChunkModel[] {
  const bytes = Buffer.from(text);
  const positions = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunker = new LogChunker(0, { maxChunkBytes, redact: identity });
  const out: LogChunkModel[] = [];
  let at = 0;
  for (const p of [...positions, bytes.length]) {
    out.push(...chunker.push(bytes.subarray(at, p)));
    at = p;
  }
  if (complete) out.push(...chunker.finish());
  return out;
}

describe('LogChunker', () => {
  it('gives back the exact text in contiguous chunks, whatever the read boundaries, each within the size limit', () => {
    fc.assert(fc.property(logText, fc.array(fc.nat(), { maxLength: 10 }), fc.integer({ min: 4, max: 64 }), (text, cuts, max) => {
      const chunks = chunkAll(text, cuts, max);
      expect(chunks.map((c) => c.text).join('')).toBe(text);
      let offset = 0;
      for (const c of chunks) {
        expect(c.offset).toBe(offset);
        expect(c.nextOffset - c.offset).toBe(bytesOf(c.text));
        expect(c.nextOffset - c.offset).toBeLessThanOrEqual(max);
        // Never inside a character: the text decodes to no replacement character the source lacked.
        if (!text.includes('\uFFFD')) expect(c.text).not.toContain('\uFFFD');
        offset = c.nextOffset;
      }
      expect(offset).toBe(bytesOf(text));
      expect(chunks.filter((c) => c.complete)).toHaveLength(1);
      expect(chunks.at(-1)!.complete).toBe(true);
    }));
  });

  it('sends only whole lines while the log runs (a chunk shorter than the limit ends with a newline)', () => {
    fc.assert(fc.property(logText, fc.array(fc.nat(), { maxLength: 10 }), (text, cuts) => {
      const chunks = chunkAll(text, cuts, 1 << 20, false);
      for (const c of chunks) expect(c.text.endsWith('\n')).toBe(true);
      const lastNewline = text.lastIndexOf('\n');
      expect(chunks.map((c) => c.text).join('')).toBe(text.slice(0, lastNewline + 1));
    }));
  });

  it('cuts at line boundaries where it can', () => {
    const chunks = chunkAll('aaaa\nbbbb\ncccc\n', [], 11);
    expect(chunks.map((c) => c.text)).toEqual(['aaaa\nbbbb\n', 'cccc\n', '']);
  });

  it('redacts each line and finds section markers at their byte offsets', () => {
    const chunker = new LogChunker(100, { maxChunkBytes: 1000, redact: compileRedactor(['tok_[a-z0-9]+']) });
    const text = `é\n${ESC}[0Ksection_start:1700000000:build[collapsed=true]\r${ESC}[0KBuild\nusing tok_abc123 now\n`;
    const [chunk] = chunker.push(Buffer.from(text));
    expect(chunk!.text).toContain('using [REDACTED] now');
    expect(chunk!.text).not.toContain('tok_abc123');
    expect(chunk!.sections).toEqual([{ marker: 'START', name: 'build', at: '2023-11-14T22:13:20.000Z', offset: 100 + bytesOf('é\n') }]);
  });
});

describe('LogChunker.pushRead (offsets that do not count bytes: Jenkins X-Text-Size)', () => {
  it('keeps each read whole and ends it at the upstream next offset, so reads resume where the upstream says', () => {
    const chunker = new LogChunker(0, { maxChunkBytes: 4, redact: identity });
    // The console file holds hidden annotations: 40 file bytes for these 12 bytes of text.
    const first = chunker.pushRead({ bytes: Buffer.from('[Pipeline] {\n'), nextOffset: 40 });
    expect(first).toEqual([{ offset: 0, nextOffset: 40, text: '[Pipeline] {\n', sections: [], complete: false }]);
    expect(chunker.end).toBe(40);
    const second = chunker.pushRead({ bytes: Buffer.from('make\n'), nextOffset: 71 });
    expect(second.map((c) => [c.offset, c.nextOffset, c.text])).toEqual([[40, 71, 'make\n']]);
    expect(chunker.finish()).toEqual([{ offset: 71, nextOffset: 71, text: '', sections: [], complete: true }]);
  });

  it('cuts as usual when the next offset is the byte count', () => {
    const chunker = new LogChunker(0, { maxChunkBytes: 6, redact: identity });
    expect(chunker.pushRead({ bytes: Buffer.from('aaaa\nbbbb\n'), nextOffset: 10 }).map((c) => c.text)).toEqual(['aaaa\n', 'bbbb\n']);
  });
});

describe('section markers', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/);
  const seconds = fc.integer({ min: 0, max: 4_000_000_000 });

  it('parses GitLab section_start / section_end with their time', () => {
    fc.assert(fc.property(fc.constantFrom('start', 'end'), seconds, name, fc.boolean(), fc.string({ maxLength: 20 }), (kind, at, n, prefixed, title) => {
      const line = `${prefixed ? `${ESC}[0K` : ''}section_${kind}:${at}:${n}${kind === 'start' ? '[collapsed=true]' : ''}\r${ESC}[0K${title}`;
      expect(parseSectionLine(line)).toEqual({ marker: kind === 'start' ? 'START' : 'END', name: n, at: new Date(at * 1000).toISOString() });
    }));
  });

  it('parses GitHub ##[group] / ##[endgroup], with or without a timestamp', () => {
    const title = fc.string({ maxLength: 30 }).filter((t) => !/[\r\n]/.test(t) && t.trim() === t && t.length > 0);
    const stamp = fc.option(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), { nil: null });
    fc.assert(fc.property(title, stamp, (t, at) => {
      const prefix = at ? `${at.toISOString()} ` : '';
      expect(parseSectionLine(`${prefix}##[group]${t}`)).toEqual({ marker: 'START', name: t, at: at?.toISOString() ?? null });
      expect(parseSectionLine(`${prefix}##[endgroup]`)).toEqual({ marker: 'END', name: '', at: at?.toISOString() ?? null });
    }));
  });

  it('finds nothing in lines without markers', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (line) => {
      fc.pre(!line.includes('section_') && !line.includes('##['));
      expect(parseSectionLine(line)).toBeNull();
    }));
  });

  it('names a GitHub end after the group it closes', () => {
    const chunker = new LogChunker(0, { maxChunkBytes: 1000, redact: identity });
    const [chunk] = chunker.push(Buffer.from('##[group]Run tests\nok\n##[endgroup]\n'));
    expect(chunk!.sections.map((s) => [s.marker, s.name])).toEqual([['START', 'Run tests'], ['END', 'Run tests']]);
  });
});

describe('stripAnsi', () => {
  const plain = fc.string({ maxLength: 40 }).filter((s) => !s.includes(ESC) && !s.includes('\u009b'));
  const code = fc.constantFrom(`${ESC}[0m`, `${ESC}[32;1m`, `${ESC}[0K`, `${ESC}[2J`, `${ESC}[?25l`, `${ESC}]0;title\u0007`, `${ESC}]8;;https://x.test${ESC}\\`, `${ESC}(B`, `\u009b31m`);

  it('leaves text without escapes unchanged', () => {
    fc.assert(fc.property(plain, (s) => {
      expect(stripAnsi(s)).toBe(s);
    }));
  });

  it('removes every code interleaved in plain text, and only them', () => {
    fc.assert(fc.property(fc.array(fc.tuple(plain, code), { maxLength: 10 }), plain, (pairs, end) => {
      const coloured = pairs.map(([p, c]) => p + c).join('') + end;
      expect(stripAnsi(coloured)).toBe(pairs.map(([p]) => p).join('') + end);
    }));
  });

  it('is idempotent, also where removing a code joins a stray ESC to the next', () => {
    expect(stripAnsi(`${ESC}${ESC}[0m[31mred`)).toBe('red');
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
      expect(stripAnsi(stripAnsi(s))).toBe(stripAnsi(s));
    }));
  });
});

describe('log cursor', () => {
  it('round-trips any offset', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
      expect(parseLogCursor(encodeLogCursor(n))).toBe(n);
    }));
  });

  it('refuses anything else with BAD_USER_INPUT', () => {
    for (const bad of ['', 'abc', Buffer.from('log1:-1').toString('base64url'), Buffer.from('log1:01').toString('base64url'), Buffer.from('log1:99999999999999999').toString('base64url'), 'bG9nMTox!']) {
      expect(parseLogCursor(bad)).toBeNull();
    }
    expect(() => logOffsetOf('nope')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
    expect(logOffsetOf(null)).toBeNull();
  });
});

describe('ChunkRing', () => {
  const chunk = (offset: number, size: number): LogChunkModel => ({ offset, nextOffset: offset + size, text: 'x'.repeat(size), sections: [], complete: false });

  it('keeps the newest chunks within its bytes and finds the chunk after a position', () => {
    const ring = new ChunkRing(250, 0);
    for (let i = 0; i < 10; i++) ring.push(chunk(i * 100, 100));
    expect(ring.size).toBeLessThanOrEqual(250);
    expect(ring.start).toBe(800);
    expect(ring.end).toBe(1000);
    expect(ring.next(850)?.offset).toBe(800);
    expect(ring.next(900)?.offset).toBe(900);
    expect(ring.next(1000)).toBeNull();
    expect(ring.next(0)?.offset).toBe(800);
  });
});

describe('AdaptivePollInterval', () => {
  it('starts at the minimum, grows while quiet up to the maximum, shrinks while output flows but never below the minimum', () => {
    const poll = new AdaptivePollInterval(1000, 15_000);
    expect(poll.ms).toBe(1000);
    for (let i = 0; i < 20; i++) poll.record(0);
    expect(poll.ms).toBe(15_000);
    poll.record(10);
    expect(poll.ms).toBeLessThan(15_000);
    for (let i = 0; i < 20; i++) poll.record(10);
    expect(poll.ms).toBe(1000);
    poll.backOff();
    expect(poll.ms).toBe(15_000);
  });
});

describe('Job.log reads', () => {
  const read = (text: string, complete: boolean) => ({ bytes: Buffer.from(text), complete });

  it('finds where the last N lines start', () => {
    const b = Buffer.from('a\nbb\nccc\n');
    expect(startOfLastLines(b, b.length, 1)).toBe(5);
    expect(startOfLastLines(b, b.length, 2)).toBe(2);
    expect(startOfLastLines(b, b.length, 9)).toBe(0);
    expect(startOfLastLines(b, b.length, 0)).toBe(b.length);
  });

  it('keeps whole lines while running, the last N lines with their offset, and marks truncation', () => {
    const log = jobLogOf(read('one\ntwo\nthr', false), { from: 10, tail: 1, maxBytes: 1000, finished: false }, { maxChunkBytes: 100, redact: identity });
    expect(log).toMatchObject({ text: 'two\n', offset: 14, nextOffset: 18, complete: false, truncated: true });
    const whole = jobLogOf(read('one\ntwo\nthr', true), { from: 0, tail: null, maxBytes: 1000, finished: false }, { maxChunkBytes: 100, redact: identity });
    expect(whole).toMatchObject({ text: 'one\ntwo\nthr', offset: 0, nextOffset: 11, complete: true, truncated: false });
    const capped = jobLogOf(read('one\ntwo\nthree\n', true), { from: 0, tail: null, maxBytes: 7, finished: true }, { maxChunkBytes: 100, redact: identity });
    expect(capped).toMatchObject({ text: 'three\n', offset: 8, truncated: true });
  });
});

describe('redaction patterns', () => {
  it('refuses invalid regexes and ones matching the empty string', () => {
    expect(redactPatternProblem('(')).toMatch(/not a valid regular expression/);
    expect(redactPatternProblem('a*')).toBe('matches the empty string');
    expect(redactPatternProblem('ghp_[A-Za-z0-9]{36}')).toBeNull();
  });
});
