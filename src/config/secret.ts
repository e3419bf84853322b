import type { SecretRef } from '../adapter-contract.ts';

export function createSecretResolver(env: NodeJS.ProcessEnv) {
  return (ref: SecretRef | undefined): string | undefined => {
    if (!ref) return undefined;
    if ('value' in ref) return ref.value;
    const v = env[ref.env];
    return v === undefined || v === '' ? undefined : v;
  };
}
