import { Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, gatewayError } from '../errors.ts';

/**
 * The directive limit, counted as execution would meet them: every directive
 * of an operation, and for each fragment spread the spread's own directives
 * plus all of its fragment's, every time it is spread. (graphql-armor's
 * max-directives counts a fragment once, then reuses a cached count that drops
 * the directives of later spreads: 51 directives through repeated spreads
 * passed a limit of 50.) Fragment totals are computed once each, so a document
 * whose count grows exponentially costs linear time; a cycle (already an
 * error of its own) counts zero on its back edge.
 */
export function maxDirectivesRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const totals = new Map<string, number>();
    const inProgress = new Set<string>();

    const fragmentTotal = (fragment: FragmentDefinitionNode): number => {
      const name = fragment.name.value;
      const known = totals.get(name);
      if (known !== undefined) return known;
      if (inProgress.has(name)) return 0;
      inProgress.add(name);
      const total = (fragment.directives?.length ?? 0) + selectionTotal(fragment.selectionSet);
      inProgress.delete(name);
      totals.set(name, total);
      return total;
    };

    const selectionTotal = (set: SelectionSetNode | undefined): number => {
      if (!set) return 0;
      let total = 0;
      for (const selection of set.selections) {
        total += selection.directives?.length ?? 0;
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const fragment = context.getFragment(selection.name.value);
          if (fragment) total += fragmentTotal(fragment);
        } else {
          total += selectionTotal(selection.selectionSet);
        }
        // Beyond the limit the exact figure does not matter; keeps numbers small.
        if (total > max) return total;
      }
      return total;
    };

    return {
      OperationDefinition(operation) {
        const count = (operation.directives?.length ?? 0) + selectionTotal(operation.selectionSet);
        if (count > max) {
          context.reportError(
            gatewayError(ErrorCode.DirectiveLimit, `Directives limit of ${max} exceeded.`, { nodes: [operation] }),
          );
        }
        return false;
      },
    };
  };
}

export function useMaxDirectives(max: number): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(maxDirectivesRule(max));
    },
  };
}
