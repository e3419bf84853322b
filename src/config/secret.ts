import { z } from 'zod';
import type { SecretRef } from '../adapter-contract.ts';

/**
 * A secret is referenced, never written inline in production configs:
 * `{ env: GITHUB_TOKEN }` reads the environment at start-up. `{ value: ... }`
 * exists for demo mode and tests. Resolved values never reach logs or errors.
 */
export const secretRefSchema: z.ZodType<SecretRef> = z.union([
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }).strict(),
  z.object({ value: z.string().min(1) }).strict(),
]);

export function createSecretResolver(env: NodeJS.ProcessEnv) {
  return (ref: SecretRef | undefined): string | undefined => {
    if (!ref) return undefined;
    if ('value' in ref) return ref.value;
    const v = env[ref.env];
    return v === undefined || v === '' ? undefined : v;
  };
}
