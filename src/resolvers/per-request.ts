import type { GatewayContext } from '../context.ts';

/**
 * One instance of something per request context (history DataLoaders), without
 * widening GatewayContext. Loaders made here must not cache (`cache: false`):
 * a subscription's context lives for the whole stream, and each event must read
 * the history afresh; batching inside one execution is what they are for.
 */
export function perRequest<T>(slot: WeakMap<GatewayContext, T>, ctx: GatewayContext, create: () => T): T {
  let value = slot.get(ctx);
  if (value === undefined) {
    value = create();
    slot.set(ctx, value);
  }
  return value;
}
