import { describe, expect, it } from 'vitest';
import { branch, compactTree, tree } from '../../adapters/jenkins/tree.ts';
import { nestedJobsTree, scanTree } from '../../adapters/jenkins/queries.ts';

describe('jenkins tree= builder', () => {
  it('renders nested fields and ranges without whitespace', () => {
    expect(tree('name', branch('builds', ['number', ' result '], { from: 0, to: 10 }), branch('lastBuild', ['number']))).toBe(
      'name,builds[number,result]{0,10},lastBuild[number]',
    );
    expect(tree(branch('builds', ['number'], { from: 5 }))).toBe('builds[number]{5,}');
    expect(tree(branch('builds', ['number'], { to: 3 }))).toBe('builds[number]{,3}');
    expect(compactTree(' jobs[ name ,\n url ] ')).toBe('jobs[name,url]');
  });

  it('rejects invalid fields and empty ranges', () => {
    expect(() => tree('a,b')).toThrow(/invalid tree field/);
    expect(() => tree('x]')).toThrow();
    expect(() => tree(branch('b', []))).toThrow(/sub-field/);
    expect(() => tree(branch('b', ['n'], { from: 3, to: 3 }))).toThrow(/empty/);
    expect(() => tree(branch('b', ['n'], { from: -1 }))).toThrow();
  });

  it('nests jobs[...] to the folder depth in one expression', () => {
    expect(nestedJobsTree(['name'], 1)).toBe('jobs[name]');
    expect(nestedJobsTree(['name'], 3)).toBe('jobs[name,jobs[name,jobs[name]]]');
    const scan = scanTree(5);
    expect(scan.match(/jobs\[/g)).toHaveLength(5);
    expect(scan).toContain('lastBuild[number,building]');
    expect(scan).not.toMatch(/\s/);
  });
});
