import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromGlobalId, toGlobalId } from '../../src/ids.ts';
import type { EntityType } from '../../src/model.ts';

const types: EntityType[] = ['Backend', 'Project', 'Pipeline', 'Job', 'Runner'];

describe('global IDs', () => {
  it('should round-trip any type, backend name and native id', () => {
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), fc.string({ minLength: 1, maxLength: 80 }), (type, backend, nativeId) => {
        const id = toGlobalId(type, backend, nativeId);
        expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(fromGlobalId(id)).toEqual({ type, backend, nativeId });
      }),
    );
  });

  it('should read arbitrary strings as null or a well-formed ID, never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const parts = fromGlobalId(s);
        if (parts) expect(toGlobalId(parts.type, parts.backend, parts.nativeId)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('should reject unknown types, missing parts and non-canonical encodings', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    expect(fromGlobalId(b64('Widget:gh:1'))).toBeNull();
    expect(fromGlobalId(b64('Job:gh:'))).toBeNull();
    expect(fromGlobalId(b64('Job::1'))).toBeNull();
    expect(fromGlobalId('')).toBeNull();
    expect(fromGlobalId('not base64 !')).toBeNull();
    expect(fromGlobalId(`${toGlobalId('Job', 'gh', 'a/b/jobs/1')}=`)).toBeNull();
  });
});
