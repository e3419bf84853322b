import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.ts';

/**
 * Appends the errors of failing backends (collected in the request context)
 * to an otherwise successful result, so one backend down never fails the
 * whole query: the data of the others comes back alongside one error per
 * failing backend.
 */
export function usePartialResults(): Plugin<GatewayContext> {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult, args }) {
          const ctx = args.contextValue as Partial<GatewayContext>;
          const extra = ctx.partialErrors;
          if (!extra || extra.length === 0 || Symbol.asyncIterator in result) return;
          setResult({ ...result, errors: [...(result.errors ?? []), ...extra] });
        },
      };
    },
  };
}
