/**
 * A small typed builder for Jenkins `tree=` expressions (core `Api/index.jelly`):
 * `field`, `field[sub,sub]`, and ranges `{M,N}` (M inclusive, N exclusive),
 * `{M,}`, `{,N}`. The output has no whitespace, so the query string stays
 * short and identical queries are byte-identical.
 */
export interface TreeRange {
  readonly from?: number;
  readonly to?: number;
}

export type TreeNode =
  | string
  | { readonly field: string; readonly children: readonly TreeNode[]; readonly range?: TreeRange };

const FIELD = /^[A-Za-z_$][A-Za-z0-9_$.]*$/;

/** `field[children]{range}`. */
export function branch(field: string, children: readonly TreeNode[], range?: TreeRange): TreeNode {
  return range ? { field, children, range } : { field, children };
}

function renderRange(r: TreeRange | undefined): string {
  if (!r) return '';
  const from = r.from ?? null;
  const to = r.to ?? null;
  for (const n of [from, to]) {
    if (n !== null && (!Number.isSafeInteger(n) || n < 0)) throw new Error(`tree range bound must be a non-negative integer, got ${n}`);
  }
  if (from === null && to === null) return '';
  if (from !== null && to !== null && to <= from) throw new Error(`empty tree range {${from},${to}}`);
  return `{${from ?? ''},${to ?? ''}}`;
}

function render(node: TreeNode): string {
  if (typeof node === 'string') {
    const f = node.replace(/\s+/g, '');
    if (!FIELD.test(f)) throw new Error(`invalid tree field ${JSON.stringify(node)}`);
    return f;
  }
  const field = node.field.replace(/\s+/g, '');
  if (!FIELD.test(field)) throw new Error(`invalid tree field ${JSON.stringify(node.field)}`);
  if (node.children.length === 0) throw new Error(`tree field ${field} needs at least one sub-field`);
  return `${field}[${node.children.map(render).join(',')}]${renderRange(node.range)}`;
}

/** Renders the nodes as one `tree=` value (without the `tree=`). */
export function tree(...nodes: readonly TreeNode[]): string {
  return nodes.map(render).join(',');
}

/** Strips every whitespace character from a hand-written tree expression. */
export function compactTree(text: string): string {
  return text.replace(/\s+/g, '');
}
