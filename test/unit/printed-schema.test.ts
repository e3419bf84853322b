import { readFileSync } from 'node:fs';
import { buildSchema, findBreakingChanges, findDangerousChanges } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSchema } from '../../src/server/load-schema.ts';
import { PRINTED_SCHEMA_FILE, printServedSchema } from '../../src/server/printed-schema.ts';

/**
 * The root schema.graphql (what consumers' codegen reads) is the schema the
 * gateway serves: it fails when schema/*.graphql is edited without `npm run codegen`.
 */
describe('the printed schema.graphql at the repository root', () => {
  const committed = readFileSync(PRINTED_SCHEMA_FILE, 'utf8');

  it('is exactly what `npm run codegen` prints from the loaded schema', () => {
    expect(committed).toBe(printServedSchema(createSchema()));
  });

  it('builds into the same schema the gateway serves, and says it is generated', () => {
    expect(committed.startsWith('# THIS FILE IS GENERATED')).toBe(true);
    const served = createSchema();
    const printed = buildSchema(committed);
    // Both ways: nothing the gateway serves is missing from the file, and nothing extra is in it.
    for (const [from, to] of [[served, printed], [printed, served]] as const) {
      expect(findBreakingChanges(from, to)).toEqual([]);
      expect(findDangerousChanges(from, to)).toEqual([]);
    }
  });
});
