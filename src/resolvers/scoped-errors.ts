import type { GatewayContext } from '../context.ts';
import { ErrorCode } from '../errors.ts';

/**
 * Whether the caller may read upstream error details of a backend. Those
 * messages name upstream paths (`GET /repos/octo-org/infra/...`), so a key
 * limited to some projects of the backend sees codes and states, never them.
 */
export function seesUpstreamDetails(ctx: GatewayContext, backend: string): boolean {
  return (ctx.identity.scope.projectPatterns?.(backend) ?? null) === null;
}

/** The generic stand-in for an error message the caller may not read. */
export function genericUpstreamMessage(backend: string, code: string | null): string {
  return `[${backend}] upstream request failed (${code ?? ErrorCode.UpstreamUnavailable}); details are visible to keys with access to every project of this backend`;
}

/** Backend.health.lastErrorMessage as this caller may see it. */
export function scopedErrorMessage(ctx: GatewayContext, backend: string, code: string | null, message: string | null): string | null {
  if (message === null) return null;
  return seesUpstreamDetails(ctx, backend) ? message : genericUpstreamMessage(backend, code);
}
