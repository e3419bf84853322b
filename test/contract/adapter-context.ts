import { pino } from 'pino';
import type { AdapterContext, BackendAdapter } from '../../src/adapter-contract.ts';
import type { ContractSubject } from './kits.ts';

/** The services the core injects, for creating an adapter outside a gateway. */
export function contractContext(name: string, now: () => Date = () => new Date()): AdapterContext {
  return {
    name,
    log: pino({ level: 'silent' }),
    health: { success: () => undefined, failure: () => undefined, rateLimit: () => undefined },
    now,
    secret: (ref) => (ref && 'value' in ref ? ref.value : undefined),
  };
}

/** `config` (a backends[] entry without name and provider) parsed by the adapter's own schema. */
export function createAdapter(subject: ContractSubject, config: Record<string, unknown>, name = 'contract', now?: () => Date): BackendAdapter {
  return subject.factory.create(subject.factory.configSchema.parse(config), contractContext(name, now));
}
