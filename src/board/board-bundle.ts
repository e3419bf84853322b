import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { build } from 'esbuild';

/** One file of the board's bundle, compressed ahead of time and named by its content hash. */
export interface BoardAsset {
  /** `<hash>.js` or `<hash>.css`: a new bundle is a new URL, so it can be cached for good. */
  readonly name: string;
  readonly type: string;
  readonly etag: string;
  readonly raw: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
}

export interface BoardBundle {
  readonly js: BoardAsset;
  readonly css: BoardAsset;
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);
const ENTRY = fileURLToPath(new URL('./ui/main.tsx', import.meta.url));
const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

async function asset(ext: 'js' | 'css', raw: Buffer): Promise<BoardAsset> {
  const hash = createHash('sha256').update(raw).digest('base64url').slice(0, 16);
  const [br, gz] = await Promise.all([
    brotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
    gzipAsync(raw, { level: 9 }),
  ]);
  return { name: `${hash}.${ext}`, type: TYPES[ext]!, etag: `"${hash}"`, raw, gzip: gz, br };
}

/**
 * The board's UI (ui/), bundled in memory by esbuild: no build step for `npm ci && npm start`,
 * nothing written to disk. Minified, then gzip and brotli once, so a request only picks one.
 */
export async function buildBoardBundle(): Promise<BoardBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'board',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const pick = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(`.${ext}`));
  const js = pick('js');
  if (!js) throw new Error('board bundle: esbuild produced no script');
  const css = pick('css');
  const [jsAsset, cssAsset] = await Promise.all([asset('js', Buffer.from(js.contents)), asset('css', Buffer.from(css?.contents ?? new Uint8Array()))]);
  return { js: jsAsset, css: cssAsset };
}
