import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * The committed JSON Schema (what editors validate a config with; `.ci/run` checks it is
 * current): the README's examples pass it, and the mistakes an editor should underline fail it.
 */
const schema = JSON.parse(readFileSync(new URL('../../src/__generated__/config.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

const gh = { name: 'gh', provider: 'github', token: { env: 'GITHUB_TOKEN' }, repositories: ['octo-org/api'] };
const errorsOf = (config: unknown) => (validate(config) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message ?? ''}`));

describe('config JSON Schema', () => {
  it('accepts every config example in the README', () => {
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expect(errorsOf(parse(block)), block).toEqual([]);
  });

  it('rejects unknown keys at every level, wrong types, and a backend with another provider\'s keys', () => {
    expect(validate({ backends: [gh] })).toBe(true);
    expect(validate({ backends: [gh], histroy: {} })).toBe(false);
    expect(validate({ backends: [gh], server: { prot: 1 } })).toBe(false);
    expect(validate({ backends: [gh], history: { retentionDays: 0 } })).toBe(false);
    expect(validate({ backends: [{ ...gh, pollIntervalSeconds: 'fast' }] })).toBe(false);
    expect(validate({ backends: [{ ...gh, provider: 'gitlabb' }] })).toBe(false);
    expect(validate({ backends: [{ ...gh, groups: ['platform'] }] })).toBe(false); // a GitLab key on a GitHub backend
    expect(validate({ backends: [] })).toBe(false);
  });
});
