import type { AdapterContext, SecretRef } from '../adapter-contract.ts';

function describeRef(ref: SecretRef): string {
  return 'env' in ref ? `environment variable ${ref.env}` : 'inline value';
}

/** Resolves a configured secret or fails start-up naming where it was expected (never its value). */
export function requireSecret(ctx: AdapterContext, ref: SecretRef, what: string): string {
  const value = ctx.secret(ref);
  if (value === undefined || value === '') throw new Error(`[${ctx.name}] ${what} is not set (${describeRef(ref)})`);
  return value;
}
