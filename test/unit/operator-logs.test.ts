import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendRegistry, type BackendEntry } from '../../src/backend-registry.ts';
import { BackendHealth } from '../../src/health.ts';
import { firstSyncLine, logHealthChanges } from '../../src/ingest/backend-log-lines.ts';
import { createLogger } from '../../src/logger.ts';
import type { EntityModel } from '../../src/model.ts';
import { startPeriodicSummary } from '../../src/server/periodic-summary.ts';
import { UpstreamError, ErrorCode } from '../../src/errors.ts';

/** A stream that keeps what is written, as a terminal or a collector would receive it. */
function sink(isTTY = false): Writable & { text: () => string; isTTY: boolean } {
  let text = '';
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => ((text += chunk.toString()), done()) });
  return Object.assign(stream, { text: () => text, isTTY });
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterEach(() => vi.useRealTimers());

describe('log format', () => {
  it('auto: JSON when not a terminal, readable lines on one; secrets redacted either way', () => {
    const json = sink(false);
    createLogger('info', 'auto', json as unknown as NodeJS.WriteStream).info({ headers: { authorization: 'Bearer s3cret' } }, 'hello');
    expect(jsonLines(json.text())[0]).toMatchObject({ level: 30, msg: 'hello', headers: { authorization: '[redacted]' } });

    const tty = sink(true);
    createLogger('info', 'auto', tty as unknown as NodeJS.WriteStream).info({ headers: { authorization: 'Bearer s3cret' } }, 'hello');
    const pretty = tty.text().replace(/\u001b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello {"headers":{"authorization":"\[redacted\]"}}\n$/);
    expect(pretty).toContain('[redacted]');
    expect(pretty).not.toContain('s3cret');
    expect(() => JSON.parse(pretty)).toThrow();
  });

  it('pretty and json force either, whatever the stream', () => {
    const forced = sink(false);
    createLogger('info', 'pretty', forced as unknown as NodeJS.WriteStream).warn('careful');
    expect(forced.text()).toMatch(/WARN: careful/);
    expect(forced.text()).not.toContain('\u001b['); // no colours where no terminal reads them
    const json = sink(true);
    createLogger('info', 'json', json as unknown as NodeJS.WriteStream).warn('careful');
    expect(jsonLines(json.text())[0]).toMatchObject({ level: 40, msg: 'careful' });
  });
});

describe('backend lines', () => {
  it('first poll: counts what it saw, per kind, with distinct projects', () => {
    const base = { backend: 'gh', revision: [1] };
    const entities = [
      { ...base, type: 'Runner', nativeId: 'r1' },
      { ...base, type: 'Pipeline', nativeId: 'p1', projectNativeId: 'a' },
      { ...base, type: 'Pipeline', nativeId: 'p2', projectNativeId: 'b' },
      { ...base, type: 'Job', nativeId: 'j1', projectNativeId: 'a' },
    ] as unknown as EntityModel[];
    expect(firstSyncLine('gh', entities, true, 1234).message).toBe('gh: first poll done in 1.2 s, saw 2 projects, 1 runners, 2 pipelines, 1 jobs; webhooks on');
    expect(firstSyncLine('gh', [], false, 50).message).toMatch(/webhooks off \(polling only\)$/);
  });

  it('health: one line per change of state, warn when worse with the cause, info on recovery with how long; none for the first OK', () => {
    const out = sink();
    let clock = new Date('2026-12-05T00:00:00Z');
    const health = new BackendHealth(() => clock);
    health.onChange(logHealthChanges(pino(out), 'gl', () => clock));
    health.success();
    const failure = new UpstreamError('gl', ErrorCode.UpstreamUnavailable, 'GET /projects failed: ECONNREFUSED');
    health.failure(failure);
    health.failure(new UpstreamError('gl', ErrorCode.UpstreamUnavailable, 'again'));
    health.failure(new UpstreamError('gl', ErrorCode.UpstreamUnavailable, 'third'));
    health.failure(new UpstreamError('gl', ErrorCode.UpstreamUnavailable, 'fourth: still DOWN, no new line'));
    clock = new Date('2026-12-05T00:00:42Z');
    health.success();
    health.success();
    const lines = jsonLines(out.text()).map((l) => [l.level, l.msg]);
    expect(lines).toEqual([
      [40, 'gl: health OK → DEGRADED (UPSTREAM_UNAVAILABLE: [gl] GET /projects failed: ECONNREFUSED)'],
      [40, 'gl: health DEGRADED → DOWN (UPSTREAM_UNAVAILABLE: [gl] third)'],
      [30, 'gl: health DOWN → OK (recovered after 42 s)'],
    ]);
  });
});

describe('periodic summary', () => {
  it('logs one state line every interval, and none after stop', async () => {
    vi.useFakeTimers();
    const out = sink();
    const health = new BackendHealth(() => new Date());
    health.success();
    const registry = new BackendRegistry([{ name: 'gh', health } as unknown as BackendEntry]);
    const summary = startPeriodicSummary(pino(out), 15, {
      registry, subscriptions: () => 12, connections: () => 4,
      history: () => Promise.resolve({ state: 'ok', feed: 'buffer', written: 340 }),
    });
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(jsonLines(out.text()).map((l) => l.msg)).toEqual(['status: gh OK; 12 subscriptions over 4 connections; history ok, 340 transitions written']);
    summary.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(jsonLines(out.text())).toHaveLength(1);
  });
});
