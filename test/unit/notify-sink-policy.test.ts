import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { sinkConfigSchema } from '../../src/notify/notify-config.ts';
import { createSinks } from '../../src/notify/sinks/create-sinks.ts';
import { outcomeFromStatus, parseRetryAfter } from '../../src/notify/sinks/http-outcome.ts';
import { isLoopbackHost, resolveSinkUrl } from '../../src/notify/sinks/url-policy.ts';

const resolveSecret = (ref: { env: string } | { value: string } | undefined) => (ref && 'value' in ref ? ref.value : undefined);
const policy = (allowInsecureUrl = false) => ({ allowInsecureUrl, resolveSecret });
const KEY = 'notifications.sinks[3].url';
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('the sink URL policy', () => {
  it('takes https anywhere, and http only to loopback or with allowInsecureUrl', () => {
    expect(resolveSinkUrl('https://hooks.example.com/x?sig=abc', KEY, policy()).display).toBe('https://hooks.example.com/x');
    for (const url of ['http://127.0.0.1:8080/hook', 'http://127.8.9.10/hook', 'http://localhost:9/hook', 'http://[::1]:9/hook', 'http://[::ffff:127.0.0.1]/hook']) {
      expect(resolveSinkUrl(url, KEY, policy()).url.href).toBe(new URL(url).href);
    }
    expect(resolveSinkUrl('http://ci-hooks.internal/hook', KEY, policy(true)).display).toBe('http://ci-hooks.internal/hook');
  });

  it('refuses plain http elsewhere, naming the key, what was expected and what was received', () => {
    expect(refusal(() => resolveSinkUrl('http://hooks.example.com/x?token=abc', KEY, policy()))).toBe(
      `${KEY}: expected an https:// URL (plain http:// only to a loopback host, or with allowInsecureUrl: true), received http://hooks.example.com/x`,
    );
    for (const url of ['http://128.0.0.1/x', 'http://10.0.0.1/x', 'http://127.0.0.1.nip.io/x', 'http://[::2]/x', 'http://localhost.example.com/x']) {
      expect(refusal(() => resolveSinkUrl(url, KEY, policy()))).toContain(KEY);
    }
    expect(refusal(() => resolveSinkUrl('ftp://files.example.com/x', KEY, policy(true)))).toBe(`${KEY}: expected an https:// URL, received the scheme ftp:`);
    expect(refusal(() => resolveSinkUrl('not a url', KEY, policy()))).toBe(`${KEY}: expected an absolute https:// URL, received "not a url"`);
  });

  it('shows a secret URL as scheme and host only, and names the missing variable', () => {
    const secret = { value: 'http://hooks.slack.example/services/T0/B0/s3cr3t-token' };
    const message = refusal(() => resolveSinkUrl(secret, KEY, policy()));
    expect(message).toContain('received http://hooks.slack.example/…');
    expect(message).not.toContain('s3cr3t');
    expect(refusal(() => resolveSinkUrl({ value: 's3cr3t garbage' }, KEY, policy()))).not.toContain('s3cr3t');
    expect(resolveSinkUrl({ value: 'https://hooks.slack.example/services/T0/B0/s3cr3t' }, KEY, policy()).display).toBe('https://hooks.slack.example');
    expect(refusal(() => resolveSinkUrl({ env: 'SLACK_WEBHOOK_URL' }, KEY, policy()))).toBe(`${KEY}: expected the environment variable SLACK_WEBHOOK_URL to be set to the sink's URL, received nothing`);
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.255.0.9', 'localhost', 'LOCALHOST', '[::1]', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['128.0.0.1', '0.0.0.0', '::', 'example.com', '127.0.0.1.example.com', 'api.localhost', '[::2]'].some(isLoopbackHost)).toBe(false);
  });
});

describe('createSinks', () => {
  const log = pino({ level: 'silent' });
  const parse = (c: object) => sinkConfigSchema.parse(c);

  it('lists every problem in one ConfigError, one line per key, then refuses to start', () => {
    const configs = [
      parse({ type: 'log', name: 'demo' }),
      parse({ type: 'slack', name: 'slack', url: { env: 'SLACK_URL' } }),
      parse({ type: 'webhook', name: 'hook', url: 'http://hooks.example.com/in', secret: { env: 'HOOK_SECRET' } }),
      parse({ type: 'webhook', name: 'weak', url: 'https://hooks.example.com/in', secret: { value: 'whsec_c2hvcnQ=' } }),
      parse({ type: 'webhook', name: 'junk', url: 'https://hooks.example.com/in', secret: { value: 'whsec_!!!' } }),
      parse({ type: 'cdevents', name: 'cde', url: 'http://events.example.com/' }),
    ];
    let error: unknown;
    try {
      createSinks(configs, { env: {}, log });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      "notifications.sinks[1].url: expected the environment variable SLACK_URL to be set to the sink's URL, received nothing",
      'notifications.sinks[2].url: expected an https:// URL (plain http:// only to a loopback host, or with allowInsecureUrl: true), received http://hooks.example.com/in',
      'notifications.sinks[3].secret: expected at least 24 random bytes (base64 after whsec_), received 5',
      'notifications.sinks[4].secret: expected a Standard Webhooks secret (whsec_ followed by base64), received a value that is not one',
      expect.stringMatching(/^notifications\.sinks\[5\]: notifications\.sinks "cde" \(cdevents\): url: .*https/),
    ]);
  });

  it('names the missing signing secret variable', () => {
    const configs = [parse({ type: 'webhook', name: 'hook', url: 'https://hooks.example.com/in', secret: { env: 'HOOK_SECRET' } })];
    expect(refusal(() => createSinks(configs, { env: {}, log }))).toContain('notifications.sinks[0].secret: expected the environment variable HOOK_SECRET to be set to the signing secret, received nothing');
  });

  it('builds a type from extraBuilders (the CDEvents hook)', () => {
    const configs = [parse({ type: 'cdevents', name: 'cde', url: 'https://events.example.com/' })];
    const sinks = createSinks(configs, {
      env: {},
      log,
      extraBuilders: { cdevents: (c, { key }) => ({ name: c.name, type: 'cdevents', describe: () => `cdevents at ${key}`, send: async () => ({ ok: true, status: 202 }) }) },
    });
    expect(sinks.get('cde')?.describe()).toBe('cdevents at notifications.sinks[0]');
  });
});

describe('HTTP outcomes', () => {
  it('reads Retry-After as seconds or an HTTP-date', () => {
    const now = Date.parse('2026-01-15T10:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 15 Jan 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 15 Jan 2026 09:00:00 GMT', now)).toBe(0);
    for (const junk of [null, undefined, '', '-5', '1.5', 'soon']) expect(parseRetryAfter(junk, now)).toBeUndefined();
  });

  it('retries 408, 429 and 5xx; every other non-2xx is permanent', () => {
    expect(outcomeFromStatus(202, null, '')).toEqual({ ok: true, status: 202 });
    for (const status of [408, 429, 500, 502, 503, 504]) expect(outcomeFromStatus(status, null, '')).toMatchObject({ ok: false, kind: 'retry', status });
    for (const status of [301, 400, 401, 403, 404, 410, 413, 422]) expect(outcomeFromStatus(status, null, '')).toMatchObject({ ok: false, kind: 'permanent', status });
    expect(outcomeFromStatus(503, '3', '')).toMatchObject({ retryAfterMs: 3000 });
    expect(outcomeFromStatus(400, '3', '')).not.toHaveProperty('retryAfterMs');
  });
});
