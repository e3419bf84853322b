import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

/** Sends one raw request and returns the status line of the answer. */
function rawStatus(port: number, head: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.once('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.once('error', reject);
  });
}

describe('GraphQL over HTTP through yoga\'s node handler', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 } });
  });
  afterAll(() => stack.close());

  it('should answer a query whatever the Host header says: the URL never comes from it', async () => {
    const port = Number(new URL(stack.base).port);
    const body = JSON.stringify({ query: '{ __typename }' });
    for (const host of ['[', 'evil.example:99999', 'a b']) {
      expect(await rawStatus(port, `POST /graphql HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json`, body), host).toBe('HTTP/1.1 200 OK');
    }
  });
});
