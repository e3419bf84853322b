import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { acceptedCodings } from './accept-encoding.ts';
import type { GatewayRoute } from './gateway-plugin.ts';

export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
  /** Compressed once, on first use, off the event loop (zlib's thread pool). */
  encoded?: Promise<{ br: Buffer; gzip: Buffer }>;
}

const INIT_CALL = 'YogaGraphiQL.renderYogaGraphiQL(';
const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

function digest(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 16);
}

/**
 * GraphiQL's page inlines ~9 MB of assets (render-graphiql's bundle: one script, one style
 * sheet, a favicon). Sent as is, every visit downloads all of it uncompressed. Here the page
 * keeps only the small per-render call and points to the rest by content hash, so the assets
 * can be cached for a year and are sent brotli- or gzip-compressed.
 */
export class GraphiQLAssets {
  private readonly assets = new Map<string, Asset>();

  private add(ext: string, type: string, body: Buffer): string {
    const etag = digest(body);
    const name = `${etag}.${ext}`;
    if (!this.assets.has(name)) this.assets.set(name, { type, body, etag: `"${etag}"` });
    return `${GRAPHIQL_ASSETS_PATH}${name}`;
  }

  /** The page with its inline assets moved out; unchanged if its shape is not the one expected. */
  split(html: string): string {
    let page = html.replace(/<link rel="icon" href="data:image\/x-icon;base64,([A-Za-z0-9+/=]+)"/, (_all, data: string) =>
      `<link rel="icon" href="${this.add('ico', 'image/x-icon', Buffer.from(data, 'base64'))}"`);
    page = page.replace(/<style>([\s\S]*?)<\/style>/, (_all, css: string) =>
      `<link rel="stylesheet" href="${this.add('css', 'text/css; charset=utf-8', Buffer.from(css))}">`);
    // A script ends at the first `</script>` (the bundle escapes its own as `<\/script>`).
    const open = page.indexOf('<script>');
    const close = open < 0 ? -1 : page.indexOf('</script>', open);
    const init = close < 0 ? -1 : page.lastIndexOf(INIT_CALL, close);
    if (init > open) {
      const library = page.slice(open + '<script>'.length, init);
      // A classic script, like the inline one: its top-level declarations stay global for the call.
      page = `${page.slice(0, open)}<script src="${this.add('js', 'text/javascript; charset=utf-8', Buffer.from(library))}"></script>\n<script>${page.slice(init)}`;
    }
    return page;
  }

  get size(): number {
    return this.assets.size;
  }

  route(): GatewayRoute {
    return {
      handles: (pathname) => pathname.startsWith(GRAPHIQL_ASSETS_PATH),
      handle: (req, res, url) => this.serve(req, res, url.pathname.slice(GRAPHIQL_ASSETS_PATH.length)),
    };
  }

  private async serve(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const asset = this.assets.get(name);
    if (!asset) return void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    const headers: Record<string, string> = {
      'content-type': asset.type,
      // The name is the content's hash: a new bundle is a new URL.
      'cache-control': 'public, max-age=31536000, immutable',
      etag: asset.etag,
      vary: 'accept-encoding',
    };
    if (req.headers['if-none-match'] === asset.etag) return void res.writeHead(304, headers).end();
    const accepted = acceptedCodings(String(req.headers['accept-encoding'] ?? ''));
    const wants = (coding: string) => (accepted.get(coding) ?? accepted.get('*') ?? 0) > 0;
    let body = asset.body;
    if (wants('br') || wants('gzip')) {
      asset.encoded ??= Promise.all([
        brotli(asset.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: asset.body.length } }),
        gzipAsync(asset.body, { level: 9 }),
      ]).then(([br, gz]) => ({ br, gzip: gz }));
      const encoded = await asset.encoded;
      const coding = wants('br') ? 'br' : 'gzip';
      headers['content-encoding'] = coding;
      body = encoded[coding];
    }
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
