import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import type { AdapterTestingKit } from '../../src/adapter-testing.ts';
import { contractFactories, contractSubjects, registerTestingKit } from './kits.ts';

/** The suite covers the registry as it is: every adapter, no hard-coded list, none skipped. */
describe('contract subjects', () => {
  it('should be every registered adapter, each with its kit', async () => {
    const subjects = await contractSubjects();
    expect(subjects.map((s) => s.provider)).toEqual(Object.keys(contractFactories));
    // The bundled adapters, and the adapters defined under test/ (test-adapters.ts).
    expect(Object.keys(contractFactories)).toEqual([...Object.keys(adapterFactories), 'testci']);
    for (const s of subjects) expect(s.kit.provider).toBe(s.provider);
  });

  it('should fail, not skip, for a registered adapter without a kit', async () => {
    const factories = { ...adapterFactories, 'kitless-provider': Object.values(adapterFactories)[0] };
    await expect(contractSubjects(factories)).rejects.toThrow('registered adapters without a testing kit: kitless-provider');
  });

  it('should take the kit of an adapter defined outside adapters/ from registerTestingKit', async () => {
    const kit = { ...(await contractSubjects())[0]!.kit, provider: 'fixture-provider' } satisfies AdapterTestingKit;
    registerTestingKit(kit);
    const factories = { ...adapterFactories, 'fixture-provider': Object.values(adapterFactories)[0] };
    expect((await contractSubjects(factories)).find((s) => s.provider === 'fixture-provider')?.kit).toBe(kit);
  });
});
