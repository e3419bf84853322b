import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';

/** The README's config example must stay a valid config. */
describe('README', () => {
  it('should show a config example that validates', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const config = validateConfig(parse(block), adapterFactories, 'README.md');
      expect(config.backends.length).toBeGreaterThan(0);
    }
  });
});
