import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequestTarget } from '../../src/server/request-target.ts';

describe('parseRequestTarget', () => {
  it('should keep the path and query of origin-form and absolute-form targets on a fixed host', () => {
    expect(parseRequestTarget('/graphql?query=x')?.href).toBe('http://localhost/graphql?query=x');
    expect(parseRequestTarget('http://gw.example.com:8080/graphql?a=1')?.href).toBe('http://localhost/graphql?a=1');
    // A network-path reference stays a path: it never names another host.
    expect(parseRequestTarget('//evil.example/graphql')?.host).toBe('localhost');
    expect(parseRequestTarget('//evil.example/graphql')?.pathname).toBe('//evil.example/graphql');
  });

  it('should answer null, never throw, for targets that do not parse', () => {
    for (const target of ['http://[/graphql', 'http://a b/graphql', '*', '', undefined, 'ws://[', 'javascript:alert(1)', 'file:///etc/passwd']) {
      expect(parseRequestTarget(target), String(target)).toBeNull();
    }
  });

  it('should never throw and never leave the fixed host, whatever the target', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `/${s}`), fc.string().map((s) => `http://${s}`), fc.webUrl()), (target) => {
        const url = parseRequestTarget(target);
        if (url) expect(url.origin).toBe('http://localhost');
      }),
      { numRuns: 500 },
    );
  });
});
