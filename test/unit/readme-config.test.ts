import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { adapterFactories } from '../../src/adapters.ts';
import { resolveConnection } from '../../src/cli/connection.ts';
import { scopeSchema } from '../../src/auth/auth-config.ts';
import { gatewayConfigSchema } from '../../src/config/config-schema.ts';
import { validateConfig } from '../../src/config/load-config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/**
 * Every key a config file can set, as dotted paths (`server.cors.origins`; `[]` for an
 * entry of a list of objects, `auth.apiKeys[].id`). Wrappers (defaults, optionals,
 * refinements) are looked through; a record, union or scalar is one key. Scope grants
 * are one key too: their fields are documented once, in the Scopes section.
 */
function schemaKeys(schema: z.ZodTypeAny, path = ''): string[] {
  if (schema === scopeSchema) return [path];
  const def = schema._def as { typeName: string; innerType?: z.ZodTypeAny; schema?: z.ZodTypeAny; type?: z.ZodTypeAny; shape?: () => Record<string, z.ZodTypeAny> };
  switch (def.typeName) {
    case 'ZodDefault':
    case 'ZodOptional':
    case 'ZodNullable':
      return schemaKeys(def.innerType!, path);
    case 'ZodEffects':
      return schemaKeys(def.schema!, path);
    case 'ZodArray': {
      const element = schemaKeys(def.type!, `${path}[]`);
      // A list of scalars is one key, not `key[]`.
      return element.length === 1 && element[0] === `${path}[]` ? [path] : element;
    }
    case 'ZodObject':
      return Object.entries(def.shape!()).flatMap(([key, child]) => schemaKeys(child, path ? `${path}.${key}` : key));
    default:
      return [path];
  }
}

/** The keys in the first column of the README's "Config reference" table. */
function documentedKeys(markdown: string): string[] {
  const section = /^### Config reference\n([\s\S]*?)(?=^#{2,3} )/m.exec(markdown)?.[1];
  if (section === undefined) throw new Error('README.md has no "### Config reference" section');
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

describe('README', () => {
  it('should show a CLI profile file that the CLI reads as documented', () => {
    const block = /```yaml profiles\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    try {
      writeFileSync(join(dir, 'profiles.yaml'), block!);
      const env = { SWITCHYARD_PROFILES: join(dir, 'profiles.yaml'), PROD_SWITCHYARD_KEY: 'k-prod' };
      expect(resolveConnection({}, env)).toEqual({ graphqlUrl: 'http://127.0.0.1:4000/graphql', apiKey: undefined });
      expect(resolveConnection({ profile: 'prod' }, env)).toEqual({ graphqlUrl: 'https://ci-gateway.example.com/graphql', apiKey: 'k-prod' });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  // Gateway configs are fenced `yaml`; other YAML files say what they are (`yaml profiles`: the CLI's, below).
  it('should show a config example that validates', () => {
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const config = validateConfig(parse(block), adapterFactories, 'README.md');
      expect(config.backends.length).toBeGreaterThan(0);
    }
  });

  it('should document every config key of the schema, and no key the schema lacks', () => {
    const inSchema = schemaKeys(gatewayConfigSchema);
    const documented = documentedKeys(readme);
    expect(inSchema).toContain('server.host');
    expect(inSchema).toContain('logLevel');
    const undocumented = inSchema.filter((k) => !documented.includes(k));
    const unknown = documented.filter((k) => !inSchema.includes(k));
    const repeated = documented.filter((k, i) => documented.indexOf(k) !== i);
    expect({ undocumented, unknown, repeated }, 'README.md "Config reference" vs src/config/config-schema.ts').toEqual({ undocumented: [], unknown: [], repeated: [] });
  });
});
