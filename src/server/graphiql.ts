import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

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
 * GraphiQL bundled into the gateway (no CDN), so it works on closed networks.
 * The page is ~9 MB of inlined assets; it is rendered once and reused.
 */
export function createGraphiQLRenderer(): (options: GraphiQLOptions) => string {
  let cached: string | null = null;
  return (options) => (cached ??= renderGraphiQL({ ...options, title: 'Switchyard GraphiQL', defaultQuery: DEFAULT_QUERY, subscriptionsProtocol: 'WS' }));
}
