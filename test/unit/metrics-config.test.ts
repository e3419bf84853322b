/**
 * The `metrics` config section: defaults, and errors that name the key, what
 * was expected and what was received (the token's value is never printed).
 */
import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';
import { metricsAccess, refuseScrape } from '../../src/metrics/metrics-access.ts';
import type { IncomingMessage } from 'node:http';

const gh = { name: 'gh', provider: 'github', token: { env: 'GITHUB_TOKEN' }, repositories: ['octo-org/api'] };

function issues(metrics: unknown): string {
  try {
    validateConfig({ auth: { mode: 'open' }, metrics, backends: [gh] }, adapterFactories, 'switchyard.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const access = (bearerToken: unknown, env: Record<string, string> = {}) => () =>
  metricsAccess({ bearerToken: bearerToken as never, ownListener: false, authMode: 'required', resolveSecret: (ref) => (ref && 'env' in ref ? env[ref.env] : ref?.value), source: 'switchyard.yaml' });

const from = (remoteAddress: string, authorization?: string) => ({ socket: { remoteAddress }, headers: authorization ? { authorization } : {} }) as unknown as IncomingMessage;

describe('metrics config', () => {
  it('should be on at /metrics with no project labels by default', () => {
    expect(validateConfig({ auth: { mode: 'open' }, backends: [gh] }, adapterFactories).metrics).toEqual({ enabled: true, path: '/metrics', projectLabels: [] });
  });

  it('should name the key, what was expected and what was received', () => {
    expect(issues({ projectLabels: 'acme/web' })).toMatch(/metrics\.projectLabels: expected array, received string "acme\/web"/);
    expect(issues({ listen: { port: 70000 } })).toMatch(/metrics\.listen\.port: .*65535.*received number 70000/);
    expect(issues({ path: 'metrics' })).toMatch(/metrics\.path: expected a path like \/metrics, received string "metrics"/);
    expect(issues({ projectLabels: Array.from({ length: 201 }, (_, i) => `p/${i}`) })).toMatch(/metrics\.projectLabels: expected at most 200 item\(s\), received an array of 201/);
    expect(issues({ scrape: true })).toMatch(/metrics\.scrape: unknown key; expected one of "enabled"/);
  });

  it('should refuse a token it cannot resolve or that is too short, without printing it', () => {
    expect(access({ env: 'METRICS_TOKEN' })).toThrow(/metrics\.bearerToken: expected the environment variable METRICS_TOKEN to be set, received nothing/);
    expect(access({ env: 'METRICS_TOKEN' }, { METRICS_TOKEN: 'short-secret' })).toThrow(/metrics\.bearerToken: expected at least 16 characters, received 12 from the environment variable METRICS_TOKEN/);
    expect(access({ env: 'METRICS_TOKEN' }, { METRICS_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
    expect(access({ env: 'METRICS_TOKEN' }, { METRICS_TOKEN: 'a-long-enough-token' })()).toEqual({ kind: 'token', token: 'a-long-enough-token' });
  });

  it('should serve loopback only (IPv4, IPv6, mapped) when authentication is on and no token is set', () => {
    const rule = access(undefined)();
    expect(rule).toEqual({ kind: 'loopback' });
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(refuseScrape(from(address), rule)).toBeNull();
    for (const address of ['192.0.2.2', '::ffff:10.0.0.1', 'fd00::2']) expect(refuseScrape(from(address), rule)?.status).toBe(403);
    const token = access({ value: 'a-long-enough-token' })();
    expect(refuseScrape(from('127.0.0.1'), token)?.status).toBe(401);
    expect(refuseScrape(from('192.0.2.2', 'Bearer a-long-enough-token'), token)).toBeNull();
  });
});
