import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';
import type { GraphiQLAssets } from './graphiql-assets.ts';

/** The first thing a newcomer sees in GraphiQL: live data across backends. */
export const DEFAULT_QUERY = `# Switchyard: one live GraphQL API over your CI systems.
# Run this query, then try the subscription below in a second tab.
query RecentPipelines {
  pipelines(first: 10) {
    nodes {
      status
      waitReason
      name
      number
      branch
      project { fullName }
      backend { name provider }
      createdAt
      duration
      jobs { nodes { name status runner { name state } } }
    }
  }
  runners { nodes { name state labels currentJob { name } } }
}

# subscription LiveJobs {
#   jobUpdated {
#     previousStatus
#     job { name status runnerName pipeline { name project { fullName } } }
#   }
# }
`;

/**
 * How GraphiQL talks to the gateway. Subscriptions go over SSE, not graphql-ws:
 * GraphiQL hands the Headers tab to its fetcher per request, which HTTP sends
 * as headers, whereas a WebSocket's `connection_init` payload is fixed when the
 * socket opens (it went out empty: the gateway closed it with 4403, graphql-ws
 * retried for ~40 s behind a spinner, then showed a bare close event). A refused
 * SSE request is a plain 401/429 with `errors`, shown in the result pane.
 * POST, because an SSE GET carries no preflight-forcing content type and the
 * CSRF plugin would refuse it (403) without its custom header.
 */
const GRAPHIQL_TRANSPORT = { subscriptionsProtocol: 'SSE', method: 'POST' } as const satisfies GraphiQLOptions;

/**
 * GraphiQL bundled into the gateway (no CDN), so it works on closed networks.
 * Rendered once; its ~9 MB of inlined assets are served apart, compressed and cached (graphiql-assets.ts).
 */
export function createGraphiQLRenderer(assets: GraphiQLAssets): (options: GraphiQLOptions) => string {
  let cached: string | null = null;
  return (options) => (cached ??= assets.split(renderGraphiQL({ ...options, title: 'Switchyard GraphiQL', defaultQuery: DEFAULT_QUERY, ...GRAPHIQL_TRANSPORT })));
}
