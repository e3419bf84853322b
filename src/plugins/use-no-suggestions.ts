import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/**
 * graphql-js appends "Did you mean …?" with field names, type names or enum
 * values to validation, variable-coercion and input-coercion errors: with
 * introspection off that leaks the schema one guess at a time. The suffix is
 * always the end of the message.
 */
const SUGGESTION = / Did you mean [\s\S]*\?$/;

export const hasSuggestion = (error: { readonly message: string }) => SUGGESTION.test(error.message);

/** The same error without its suggestion (locations, path, extensions kept). */
export function withoutSuggestion<E extends GraphQLError | Error>(error: E): E | GraphQLError {
  if (!hasSuggestion(error)) return error;
  const message = error.message.replace(SUGGESTION, '');
  if (!(error instanceof GraphQLError)) return new GraphQLError(message);
  return new GraphQLError(message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    ...(error.path ? { path: error.path } : {}),
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

/** For already-formatted errors (the WebSocket `error` message). */
export function formattedWithoutSuggestion(error: GraphQLError): GraphQLFormattedError {
  return (withoutSuggestion(error) as GraphQLError).toJSON();
}

const cleanResult = (result: ExecutionResult): ExecutionResult | null =>
  result.errors?.some(hasSuggestion) ? { ...result, errors: result.errors.map((e) => withoutSuggestion(e) as GraphQLError) } : null;

function cleanEach({ result, setResult }: { result: ExecutionResult; setResult: (r: ExecutionResult) => void }): void {
  const clean = cleanResult(result);
  if (clean) setResult(clean);
}

/**
 * Strips suggestions from every error of validation, execution (variable
 * coercion included) and subscription, on every transport that runs through
 * envelop (HTTP, SSE, graphql-ws). Installed when introspection is off.
 */
export function useNoSuggestions(): Plugin {
  return {
    onValidate: () => ({ result, setResult }) => {
      if ((result as Error[]).some(hasSuggestion)) setResult((result as Error[]).map(withoutSuggestion));
    },
    onExecute: () => ({
      onExecuteDone: ({ args, result, setResult }) => {
        if (isAsyncIterable(result)) return { onNext: cleanEach };
        cleanEach({ args, result, setResult } as never);
        return undefined;
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (isAsyncIterable(result)) return { onNext: cleanEach };
        cleanEach({ result, setResult } as never);
        return undefined;
      },
    }),
  };
}
