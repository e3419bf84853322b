/**
 * Stapler's model export, as Jenkins' `…/api/json` applies it: every object
 * is a bean of exported properties, each with a visibility. Without `tree=`,
 * `depth=N` keeps a property at nesting level L when its visibility ≥ 1 + L − N
 * (Stapler's TreePruner.ByDepth); `inline` properties do not add a level.
 * With `tree=`, exactly the named properties are written (NamedPathPruner),
 * visibility is ignored, and `{M,N}` ranges slice arrays. `_class` is written
 * on the top object and wherever the runtime class differs from the declared one.
 */

export type JValue = string | number | boolean | null | ExportNode | readonly JValue[];
type Lazy = JValue | (() => JValue);

interface Prop {
  readonly name: string;
  readonly vis: number;
  readonly value: Lazy;
  readonly inline: boolean;
}

export class ExportNode {
  readonly props: Prop[] = [];
  /** `cls` null: the declared type is the runtime type, so no `_class` is written. */
  constructor(readonly cls: string | null) {}

  /** Adds an exported property (default visibility 1, as `@Exported`). */
  set(name: string, value: Lazy, vis = 1, inline = false): this {
    this.props.push({ name, vis, value, inline });
    return this;
  }
}

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface TreeSpec {
  readonly children: ReadonlyMap<string, { readonly tree: TreeSpec; readonly range: Range | null }>;
}

export class TreeSyntaxError extends Error {}

/** Parses `jobs[name,url,lastBuild[number]]{0,10},views[name]`. */
export function parseTree(spec: string): TreeSpec {
  let i = 0;
  const ws = (): void => {
    while (i < spec.length && /\s/.test(spec.charAt(i))) i++;
  };
  const list = (): TreeSpec => {
    const children = new Map<string, { tree: TreeSpec; range: Range | null }>();
    for (;;) {
      ws();
      const start = i;
      while (i < spec.length && !/[,[\]{}\s]/.test(spec.charAt(i))) i++;
      const name = spec.slice(start, i);
      if (!name) throw new TreeSyntaxError(`Expected a property name at ${start} in tree=${spec}`);
      ws();
      let tree: TreeSpec = { children: new Map() };
      if (spec.charAt(i) === '[') {
        i++;
        tree = list();
        ws();
        if (spec.charAt(i) !== ']') throw new TreeSyntaxError(`Expected ']' at ${i} in tree=${spec}`);
        i++;
        ws();
      }
      let range: Range | null = null;
      if (spec.charAt(i) === '{') {
        const end = spec.indexOf('}', i);
        if (end < 0) throw new TreeSyntaxError(`Unterminated range at ${i} in tree=${spec}`);
        range = parseRange(spec.slice(i + 1, end));
        i = end + 1;
        ws();
      }
      const prior = children.get(name);
      children.set(name, prior ? { tree: merge(prior.tree, tree), range: range ?? prior.range } : { tree, range });
      if (spec.charAt(i) === ',') {
        i++;
        continue;
      }
      return { children };
    }
  };
  const tree = list();
  if (i !== spec.length) throw new TreeSyntaxError(`Unexpected '${spec.charAt(i)}' at ${i} in tree=${spec}`);
  return tree;
}

function merge(a: TreeSpec, b: TreeSpec): TreeSpec {
  const children = new Map(a.children);
  for (const [k, v] of b.children) {
    const prior = children.get(k);
    children.set(k, prior ? { tree: merge(prior.tree, v.tree), range: v.range ?? prior.range } : v);
  }
  return { children };
}

/** `{M,N}` (M inclusive, N exclusive), `{M,}`, `{,N}`, `{N}` (just element N). */
export function parseRange(text: string): Range {
  const t = text.trim();
  const num = (s: string): number => {
    if (!/^\d+$/.test(s.trim())) throw new TreeSyntaxError(`Invalid range {${text}}`);
    return Number(s.trim());
  };
  if (!t.includes(',')) {
    const n = num(t);
    return { min: n, max: n + 1 };
  }
  const [a = '', b = ''] = t.split(',');
  return { min: a.trim() === '' ? 0 : num(a), max: b.trim() === '' ? Infinity : num(b) };
}

export interface Pruner {
  /** The pruner for the property's value, or null to leave the property out. */
  accept(prop: { name: string; vis: number; inline: boolean }): { pruner: Pruner; range: Range | null } | null;
}

export function byDepth(depth: number): Pruner {
  const at = (n: number): Pruner => ({
    accept: (p) => (p.vis >= n ? { pruner: p.inline ? at(n) : at(n + 1), range: null } : null),
  });
  return at(1 - depth);
}

export function byTree(tree: TreeSpec): Pruner {
  return {
    accept: (p) => {
      const child = tree.children.get(p.name);
      return child ? { pruner: byTree(child.tree), range: child.range } : null;
    },
  };
}

/** Writes the top-level object (which always carries `_class`). */
export function serialize(node: ExportNode, pruner: Pruner): Record<string, unknown> {
  return writeNode(node, pruner);
}

function writeNode(node: ExportNode, pruner: Pruner): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (node.cls !== null) out._class = node.cls;
  for (const p of node.props) {
    const accepted = pruner.accept(p);
    if (!accepted) continue;
    const value = typeof p.value === 'function' ? p.value() : p.value;
    out[p.name] = writeValue(value, accepted.pruner, accepted.range);
  }
  return out;
}

function writeValue(v: JValue, pruner: Pruner, range: Range | null): unknown {
  if (Array.isArray(v)) {
    const items = range ? v.slice(range.min, range.max === Infinity ? undefined : range.max) : v;
    return items.map((x) => writeValue(x, pruner, null));
  }
  if (v instanceof ExportNode) return writeNode(v, pruner);
  return v;
}
