/**
 * Adapters defined under test/ that the contract suite holds to the same
 * contract as the bundled ones: each registers its factory and hands its kit
 * here (kits.ts registers both). Adding one is a line in this list.
 */
import type { AdapterFactory } from '../../src/adapter-contract.ts';
import type { AdapterTestingKit } from '../../src/adapter-testing.ts';
import testProvider from '../fixtures/test-provider/index.ts';
import testCiKit from '../fixtures/test-provider/testing.ts';

export const testAdapters: readonly { readonly factory: AdapterFactory<unknown>; readonly kit: AdapterTestingKit }[] = [
  { factory: testProvider, kit: testCiKit },
];
