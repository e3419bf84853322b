import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as received over OTLP/HTTP JSON, flattened: ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly status: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly serviceName: string;
}

interface AnyValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
interface KeyValue { key: string; value: AnyValue }
const plain = (v: AnyValue): string | number | boolean => v.stringValue ?? v.boolValue ?? v.doubleValue ?? Number(v.intValue);
const attributes = (list: KeyValue[] = []) => Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));

/**
 * A tiny OTLP/HTTP trace receiver on loopback (POST /v1/traces, JSON encoding,
 * as @opentelemetry/exporter-trace-otlp-http sends it). Counts every request,
 * whatever its path, so a test can prove nothing was sent.
 */
export async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; requests: () => number; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] };
      for (const rs of body.resourceSpans ?? []) {
        const serviceName = String(attributes(rs.resource?.attributes)['service.name'] ?? '');
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId as string, spanId: s.spanId as string, parentSpanId: (s.parentSpanId as string | undefined) ?? '',
              name: s.name as string, kind: s.kind as number,
              startMs: Number(BigInt(s.startTimeUnixNano as string) / 1_000_000n), endMs: Number(BigInt(s.endTimeUnixNano as string) / 1_000_000n),
              status: (s.status as { code?: number } | undefined)?.code ?? 0,
              attributes: attributes(s.attributes as KeyValue[]), serviceName,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
