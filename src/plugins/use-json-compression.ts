import type { Plugin } from 'graphql-yoga';
import { acceptedCodings } from '../server/accept-encoding.ts';

/** Below this, gzip's header and the CPU cost more than they save. */
const MIN_BYTES = 1024;
const JSON_TYPES = /^application\/(graphql-response\+)?json\b/;

/**
 * gzip for GraphQL results the client asked to receive compressed: large dashboard answers
 * shrink ~10×. Never for SSE or multipart streams (compression would hold events back until a
 * block fills) and never below MIN_BYTES.
 */
export function useJsonCompression(): Plugin {
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      const type = response.headers.get('content-type') ?? '';
      const length = Number(response.headers.get('content-length') ?? NaN);
      if (!response.body || !JSON_TYPES.test(type) || response.headers.has('content-encoding') || !(length >= MIN_BYTES)) return;
      const accepted = acceptedCodings(request.headers.get('accept-encoding') ?? '');
      if (!((accepted.get('gzip') ?? accepted.get('*') ?? 0) > 0)) return;
      const headers = new fetchAPI.Headers(response.headers);
      headers.set('content-encoding', 'gzip');
      headers.delete('content-length');
      headers.append('vary', 'accept-encoding');
      setResponse(new fetchAPI.Response(response.body.pipeThrough(new fetchAPI.CompressionStream('gzip')), { status: response.status, statusText: response.statusText, headers }));
    },
  };
}
