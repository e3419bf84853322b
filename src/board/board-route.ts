import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { acceptedCodings } from '../server/accept-encoding.ts';
import type { GatewayRoute } from '../server/gateway-plugin.ts';
import { buildBoardBundle, type BoardAsset, type BoardBundle } from './board-bundle.ts';

export const BOARD_PATH = '/board';

/** No inline script or style: the page runs only its own bundle and talks only to this origin (ws: included). */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function pageHtml(bundle: BoardBundle): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard board</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${BOARD_PATH}/${bundle.css.name}">
<script type="module" src="${BOARD_PATH}/${bundle.js.name}"></script>
</head><body><main id="app"><p>Loading the board…</p><noscript>The board needs JavaScript.</noscript></main></body></html>`;
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: BoardAsset): void {
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': 'public, max-age=31536000, immutable',
    etag: asset.etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
  };
  if (req.headers['if-none-match'] === asset.etag) return void res.writeHead(304, headers).end();
  const accepted = acceptedCodings(String(req.headers['accept-encoding'] ?? ''));
  const wants = (coding: string) => (accepted.get(coding) ?? accepted.get('*') ?? 0) > 0;
  const coding = wants('br') ? 'br' : wants('gzip') ? 'gzip' : null;
  const body = coding ? asset[coding] : asset.raw;
  if (coding) headers['content-encoding'] = coding;
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The live board (issue 18) at /board: a page that loads one script and one style sheet,
 * built on the first request and kept in memory; the data comes from /graphql like any client's.
 */
export function createBoardRoute(log: Logger, bundle: () => Promise<BoardBundle> = buildBoardBundle): GatewayRoute {
  let built: Promise<BoardBundle> | null = null;
  const load = () => {
    built ??= bundle();
    // A failed build is retried by the next request, not cached.
    built.catch((error: unknown) => {
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'board: bundle build failed');
      built = null;
    });
    return built;
  };
  return {
    handles: (pathname) => pathname === BOARD_PATH || pathname.startsWith(`${BOARD_PATH}/`),
    async handle(req, res, url) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      if (url.pathname === `${BOARD_PATH}/`) return void res.writeHead(301, { location: BOARD_PATH + url.search }).end();
      let current: BoardBundle;
      try {
        current = await load();
      } catch {
        return void res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('the board could not be built; see the gateway log');
      }
      if (url.pathname === BOARD_PATH) {
        const html = pageHtml(current);
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(html),
          'cache-control': 'no-cache',
          'content-security-policy': CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
        });
        return void res.end(req.method === 'HEAD' ? undefined : html);
      }
      const name = url.pathname.slice(BOARD_PATH.length + 1);
      const asset = [current.js, current.css].find((a) => a.name === name);
      if (!asset) return void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      sendAsset(req, res, asset);
    },
  };
}
