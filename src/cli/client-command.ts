import type { Invocation } from './command.ts';
import { resolveConnection } from './connection.ts';
import { CliError, GatewayClient } from './gateway-client.ts';

/**
 * Runs a client command with a connected GatewayClient: a CliError (gateway unreachable, 401,
 * a GraphQL error) is printed as one line and exits 1; the socket is closed in every case.
 */
export async function withClient(inv: Invocation, body: (client: GatewayClient) => Promise<number>): Promise<number> {
  const client = new GatewayClient(resolveConnection(inv.values, inv.env));
  try {
    return await body(client);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    inv.io.stderr(`switchyard: ${error.message}\n`);
    return 1;
  } finally {
    await client.close();
  }
}
