import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LIVE_OPERATION_LIMITS } from '../config/config-reload.ts';
import { useSwitchablePlugins } from './switchable-plugins.ts';
import { useMaxDirectives } from './max-directives.ts';
import { ErrorCode, gatewayError } from '../errors.ts';

export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
  readonly maxTokens: number;
  readonly maxDirectives: number;
  readonly maxDocumentLength: number;
  readonly introspection: boolean;
}

/**
 * Rejects documents longer than the limit before they are parsed. A parse hook
 * runs on every transport (yoga's onParams does not run over graphql-ws).
 */
function useDocumentLength(max: number): Plugin {
  return {
    onParse({ params }) {
      const source = params.source;
      const length = typeof source === 'string' ? source.length : source.body.length;
      if (length > max) {
        throw gatewayError(ErrorCode.DocumentTooLarge, `Document of ${length} characters is over the limit of ${max}`, {
          extensions: { http: { status: 400 } },
        });
      }
    },
  };
}

/** Introspection off: schema queries are validation errors (and field suggestions are masked by armor). */
function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/**
 * graphql-armor's depth, alias, cost and token limits, our directive limit
 * and a document-length limit. They run in parse and validate, so HTTP, SSE and
 * graphql-ws get the same limits (the WebSocket binding turns a rejection
 * into an `error` message for that operation; see server/graphql-ws.ts).
 */
export function operationLimitPlugins(limits: OperationLimits): Plugin[] {
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: limits.maxAliases },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true },
    maxTokens: { n: limits.maxTokens },
    // Ours (max-directives.ts): armor's count drops the directives of repeated fragment spreads.
    maxDirectives: { enabled: false },
    blockFieldSuggestion: { enabled: !limits.introspection },
  });
  return [
    useDocumentLength(limits.maxDocumentLength),
    ...(armor.protect().plugins as Plugin[]),
    useMaxDirectives(limits.maxDirectives),
    ...(limits.introspection ? [] : [useNoIntrospection()]),
  ];
}

/**
 * The operation limits as one plugin whose limits a reload replaces: each
 * request's parse and validate use the limits current when it starts.
 * `onChange` runs after a replacement (the gateway clears yoga's parse and
 * validation caches there, so no verdict reached under the old limits is reused).
 */
export function liveOperationLimits(initial: OperationLimits, onChange: () => void) {
  let current = initial;
  const switchable = useSwitchablePlugins(operationLimitPlugins(initial));
  return {
    plugin: switchable.plugin,
    get current(): OperationLimits {
      return current;
    },
    set(limits: Pick<OperationLimits, (typeof LIVE_OPERATION_LIMITS)[number]>): void {
      current = { ...current, ...limits, introspection: current.introspection };
      switchable.set(operationLimitPlugins(current));
      onChange();
    },
  };
}
