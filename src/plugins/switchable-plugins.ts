import type { Plugin } from 'graphql-yoga';

/** The hooks a switchable plugin forwards; parse and validate hooks are all the operation limits use. */
const FORWARDED = new Set(['onParse', 'onValidate']);

type Hook = (payload: never) => unknown;

/** Calls each plugin's hook with the same payload, in order, and chains their after-hooks. */
function forward(plugins: readonly Plugin[], name: 'onParse' | 'onValidate', payload: unknown): ((after: unknown) => void) | undefined {
  const afters: ((after: unknown) => void)[] = [];
  for (const plugin of plugins) {
    const hook = plugin[name] as Hook | undefined;
    const after = hook?.call(plugin, payload as never);
    if (typeof after === 'function') afters.push(after as (a: unknown) => void);
  }
  return afters.length === 0 ? undefined : (a) => {
    for (const after of afters) after(a);
  };
}

/**
 * A set of parse/validate plugins behind one plugin slot, replaceable while
 * the server runs (a config reload): envelop fixes its plugin list at start,
 * so the slot stays and what it forwards to changes. A request reads the set
 * once per hook, so it never mixes two sets within one phase.
 */
export function useSwitchablePlugins(initial: readonly Plugin[]) {
  const check = (plugins: readonly Plugin[]) => {
    for (const plugin of plugins) {
      const other = Object.keys(plugin).filter((k) => !FORWARDED.has(k));
      if (other.length > 0) throw new Error(`switchable plugins forward only onParse and onValidate; this one also has ${other.join(', ')}`);
    }
    return plugins;
  };
  let current = check(initial);
  const plugin: Plugin = {
    onParse: (payload) => forward(current, 'onParse', payload) as never,
    onValidate: (payload) => forward(current, 'onValidate', payload) as never,
  };
  return {
    plugin,
    set(plugins: readonly Plugin[]): void {
      current = check(plugins);
    },
  };
}
