import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maxDirectivesRule } from '../../src/plugins/max-directives.ts';

const schema = buildSchema('type Query { a: Int, q: Query }');
const count = (doc: string, max: number) => validate(schema, parse(doc), [maxDirectivesRule(max)]).map((e) => e.message);

describe('maxDirectivesRule', () => {
  it('counts a spread\'s own directives and its fragment\'s on every spread', () => {
    const doc = 'query { ...F @include(if: true) ...F @include(if: true) } fragment F on Query { a @skip(if: false) }';
    expect(count(doc, 4)).toEqual([]);
    expect(count(doc, 3)).toEqual(['Directives limit of 3 exceeded.']);
  });

  it('counts nested fragments as often as they are reached, in linear time', () => {
    // F0 holds one directive; each Fn spreads Fn-1 twice: F40 reaches 2^40 directives.
    const fragments = ['fragment F0 on Query { a @skip(if: false) }'];
    for (let n = 1; n <= 40; n++) fragments.push(`fragment F${n} on Query { q { ...F${n - 1} ...F${n - 1} } }`);
    expect(count(`query { ...F40 } ${fragments.join(' ')}`, 1000)).toEqual(['Directives limit of 1000 exceeded.']);
    expect(count(`query { ...F5 } ${fragments.slice(0, 6).join(' ')}`, 32)).toEqual([]);
    expect(count(`query { ...F5 } ${fragments.slice(0, 6).join(' ')}`, 31)).toEqual(['Directives limit of 31 exceeded.']);
  });

  it('terminates on fragment cycles', () => {
    const doc = 'query { ...A } fragment A on Query { q @skip(if: false) { ...B } } fragment B on Query { q @skip(if: false) { ...A } }';
    expect(count(doc, 2)).toEqual([]);
    expect(count(doc, 1)).toEqual(['Directives limit of 1 exceeded.']);
  });

  it('counts each operation on its own, directives on the operation included', () => {
    const doc = 'query A @x { a @skip(if: false) } query B { a @skip(if: false) }';
    expect(validate(buildSchema('directive @x on QUERY\ntype Query { a: Int }'), parse(doc), [maxDirectivesRule(1)]).map((e) => e.message)).toEqual(['Directives limit of 1 exceeded.']);
  });
});
