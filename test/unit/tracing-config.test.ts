/**
 * The `tracing` config section: off by default (no tracer is started), errors
 * that name the key, what was expected and what was received, and header
 * secrets that must resolve before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { createSecretResolver } from '../../src/config/secret.ts';
import { ConfigError } from '../../src/errors.ts';
import { startTracing } from '../../src/tracing/gateway-tracing.ts';

const gh = { name: 'gh', provider: 'github', token: { env: 'GITHUB_TOKEN' }, repositories: ['octo-org/api'] };
const config = (tracing?: unknown) => validateConfig({ auth: { mode: 'open' }, ...(tracing === undefined ? {} : { tracing }), backends: [gh] }, adapterFactories, 'switchyard.yaml');

function issues(tracing: unknown): string {
  try {
    config(tracing);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('tracing config', () => {
  it('should be off by default, and start nothing then', () => {
    const { tracing } = config();
    expect(tracing).toEqual({ enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces', headers: {}, serviceName: 'switchyard', sampleRatio: 1, exportPipelines: false });
    expect(startTracing(tracing, createSecretResolver({}))).toBeNull();
  });

  it('should name the key, what was expected and what was received', () => {
    expect(issues({ sampleRatio: 2 })).toMatch(/tracing\.sampleRatio: .*1.*received number 2/);
    expect(issues({ endpoint: 'collector:4318' })).toMatch(/tracing\.endpoint: expected an http\(s\) URL, received string "collector:4318"/i);
    expect(issues({ headers: { authorization: 'Bearer x' } })).toMatch(/tracing\.headers\.authorization: /);
    expect(issues({ enable: true })).toMatch(/tracing\.enable: unknown key/);
  });

  it('should refuse to start when a header secret is not set', () => {
    const { tracing } = config({ enabled: true, headers: { authorization: { env: 'SY_TEST_OTLP_AUTH' } } });
    expect(() => startTracing(tracing, createSecretResolver({}))).toThrow(/tracing\.headers\.authorization: expected environment variable SY_TEST_OTLP_AUTH to be set, received nothing/);
  });
});
