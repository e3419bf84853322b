import { CliError, type GatewayClient } from './gateway-client.ts';

interface ProjectRow { id: string; fullName: string; backend: { name: string } }

/**
 * A project given by full name (`octo-org/api`, case-insensitive) or by global id, as a global id.
 * The name is looked up with the public `projects` query; two backends holding the same name is
 * an error that lists them (narrow with --backend).
 */
export async function resolveProject(client: GatewayClient, value: string, backends?: readonly string[]): Promise<string> {
  const data = await client.query<{ projects: { nodes: ProjectRow[] }; node: { __typename: string; id: string } | null }>(
    `query($search: String!, $backends: [String!], $id: ID!) {
      projects(first: 100, filter: { search: $search, backends: $backends }) { nodes { id fullName backend { name } } }
      node(id: $id) { __typename id }
    }`,
    { search: value, backends: backends ?? null, id: value },
  );
  const named = data.projects.nodes.filter((p) => p.fullName.toLowerCase() === value.toLowerCase());
  if (named.length === 1) return named[0]!.id;
  if (named.length > 1) throw new CliError(`project ${value} is on several backends (${named.map((p) => p.backend.name).join(', ')}): add --backend`);
  if (data.node?.__typename === 'Project') return data.node.id;
  throw new CliError(`no project ${JSON.stringify(value)} (give its full name, e.g. octo-org/api, or its id)`);
}
