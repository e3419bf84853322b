/**
 * Finds the testing kit of every adapter in the registry (src/adapters.ts, plus
 * the adapters defined under test/ listed in test-adapters.ts):
 * adapters/<provider>/testing.ts by default, or one registered at run time
 * (a test-only adapter registers its factory and its kit together).
 * A registered adapter without a kit fails the suite; it is never skipped.
 */
import { adapterFactories } from '../../src/adapters.ts';
import type { AdapterFactory } from '../../src/adapter-contract.ts';
import type { AdapterTestingKit } from '../../src/adapter-testing.ts';
import { registerProviders } from '../../src/providers.ts';
import { testAdapters } from './test-adapters.ts';

const registeredKits = new Map<string, AdapterTestingKit>();

/** For adapters that live outside adapters/ (test fixtures): their kit, by registry key. */
export function registerTestingKit(kit: AdapterTestingKit): void {
  registeredKits.set(kit.provider, kit);
}

/**
 * The registry the suite runs over: src/adapters.ts plus the adapters defined
 * under test/ (test-adapters.ts). Gateways the suite builds take these factories.
 */
export const contractFactories = registerProviders(...Object.values(adapterFactories), ...testAdapters.map((a) => a.factory));
for (const { kit } of testAdapters) registerTestingKit(kit);

export interface ContractSubject {
  readonly provider: string;
  readonly factory: AdapterFactory;
  readonly kit: AdapterTestingKit;
}

async function bundledKit(provider: string): Promise<AdapterTestingKit | undefined> {
  try {
    return ((await import(`../../adapters/${provider}/testing.ts`)) as { default?: AdapterTestingKit }).default;
  } catch (error) {
    // No testing.ts: reported below as a missing kit. A kit that fails to load is an error of its own.
    if (/Cannot find module|Failed to load|ERR_MODULE_NOT_FOUND|does not exist|Unknown variable dynamic import/i.test(String(error))) return undefined;
    throw error;
  }
}

/** Every registered adapter with its kit; throws naming the adapters that export none. */
export async function contractSubjects(factories: Readonly<Record<string, AdapterFactory<unknown> | undefined>> = contractFactories): Promise<ContractSubject[]> {
  const missing: string[] = [];
  const subjects: ContractSubject[] = [];
  for (const [provider, factory] of Object.entries(factories)) {
    if (!factory) continue;
    const kit = registeredKits.get(provider) ?? (await bundledKit(provider));
    if (!kit) missing.push(provider);
    else subjects.push({ provider, factory: factory as AdapterFactory, kit });
  }
  if (missing.length > 0) throw new Error(`registered adapters without a testing kit: ${missing.join(', ')}`);
  return subjects;
}
