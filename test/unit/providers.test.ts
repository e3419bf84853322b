import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { createBackendRegistry } from '../../src/backend-registry.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { providerName, registerProviders } from '../../src/providers.ts';
import { testProvider } from '../fixtures/test-provider/index.ts';

const testci = { name: 'tci', provider: 'testci', url: 'http://127.0.0.1:1', token: { value: 'tci_abcdefghijklmnop' }, projects: ['acme-api'] };

describe('the provider set (src/providers.ts)', () => {
  it('should key factories by their own provider and refuse a malformed or twice-registered key', () => {
    expect(Object.keys(registerProviders(...Object.values(adapterFactories), testProvider))).toEqual(['github', 'gitlab', 'jenkins', 'buildkite', 'testci']);
    expect(() => registerProviders({ ...testProvider, provider: 'Test CI' })).toThrow('provider "Test CI": expected lower-case letters, digits and inner dashes');
    expect(() => registerProviders(testProvider, { ...testProvider })).toThrow('provider "testci" is registered twice');
  });

  it('should name providers in GraphQL as upper case with underscores', () => {
    expect(['github', 'azure-pipelines'].map(providerName)).toEqual(['GITHUB', 'AZURE_PIPELINES']);
  });

  it('should refuse at start-up an adapter whose provider is not the key it was registered under', () => {
    const lying = { ...testProvider, create: (config: never, ctx: never) => ({ ...testProvider.create(config, ctx), provider: 'github' }) };
    const providers = registerProviders(lying as typeof testProvider);
    const config = validateConfig({ auth: { mode: 'open' }, audit: { file: null }, backends: [testci] }, providers);
    expect(() => createBackendRegistry(config, providers, { log: pino({ level: 'silent' }), env: {}, now: () => new Date() }))
      .toThrow('adapter "tci" reports provider "github", registered as "testci"');
  });

  it('should not take a provider from the prototype chain', () => {
    expect(() => validateConfig({ auth: { mode: 'open' }, backends: [{ ...testci, provider: 'constructor' }] }, adapterFactories))
      .toThrow(/backends\[0\]\.provider: expected one of "github", "gitlab", "jenkins", "buildkite" \(available in this build\), received "constructor"/);
  });
});
