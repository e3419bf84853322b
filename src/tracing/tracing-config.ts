import { z } from 'zod';
import { secretRefSchema } from '../adapter-contract.ts';

/**
 * `tracing`: OpenTelemetry traces over OTLP/HTTP (README "Traces"). Off unless
 * `enabled`: nothing is started and no request is sent while it is off.
 */
export const tracingConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The collector's OTLP/HTTP traces URL (JSON encoding). */
    endpoint: z.string().regex(/^https?:\/\/[^\s/]+/, 'an http(s) URL').default('http://127.0.0.1:4318/v1/traces'),
    /** Headers sent with each export, e.g. `{ authorization: { env: OTLP_AUTH } }`. */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), secretRefSchema).default({}),
    /** `service.name` of the gateway's spans. */
    serviceName: z.string().min(1).max(200).default('switchyard'),
    /** Share of new traces recorded; a request carrying `traceparent` follows its caller's sampling decision. */
    sampleRatio: z.number().min(0).max(1).default(1),
    /** Also export each pipeline seen finishing as a trace in the OpenTelemetry CI/CD span conventions. */
    exportPipelines: z.boolean().default(false),
  })
  .strict()
  .default({});

export type TracingConfig = z.output<typeof tracingConfigSchema>;
