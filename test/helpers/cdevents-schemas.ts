import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { default as addFormatsCjs } from 'ajv-formats';

// ajv-formats is CJS (`exports.default = plugin`): under NodeNext the default import is the module object.
const addFormats = addFormatsCjs.default;

const ROOT = fileURLToPath(new URL('../fixtures/cdevents/v0.5.1/', import.meta.url));

/** The vendored schema files of CDEvents v0.5.1, by event type (`dev.cdevents.pipelinerun.finished.0.3.0`...). */
const EVENT_SCHEMAS = ['pipelinerunqueued', 'pipelinerunstarted', 'pipelinerunfinished', 'taskrunstarted', 'taskrunfinished'];

export interface CdeventsValidator {
  /** The schema's errors for `event`, by its own `context.type`; [] when valid. */
  errors(event: unknown): string[];
  readonly types: readonly string[];
}

/**
 * The spec's own JSON schemas (draft 2020-12), strict formats: `uri` must be absolute,
 * `uri-reference` and `date-time` per RFC 3986 / 3339. The links schemas are added so the
 * events' `$ref: links/embeddedlinksarray` resolves against their `$id`s.
 */
export function cdeventsValidator(): CdeventsValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  for (const file of readdirSync(`${ROOT}schemas/links`)) ajv.addSchema(JSON.parse(readFileSync(`${ROOT}schemas/links/${file}`, 'utf8')));
  const byType = new Map<string, ValidateFunction>();
  for (const name of EVENT_SCHEMAS) {
    const schema = JSON.parse(readFileSync(`${ROOT}schemas/${name}.json`, 'utf8')) as { properties: { context: { properties: { type: { enum: string[] } } } } };
    byType.set(schema.properties.context.properties.type.enum[0]!, ajv.compile(schema));
  }
  return {
    types: [...byType.keys()],
    errors(event) {
      const type = (event as { context?: { type?: unknown } } | null)?.context?.type;
      const validate = typeof type === 'string' ? byType.get(type) : undefined;
      if (!validate) return [`no vendored schema for context.type ${JSON.stringify(type)}`];
      return validate(event) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    },
  };
}

/** The spec's conformance examples (valid events by definition). */
export function conformanceExamples(): { name: string; event: unknown }[] {
  return readdirSync(`${ROOT}conformance`).map((file) => ({ name: file, event: JSON.parse(readFileSync(`${ROOT}conformance/${file}`, 'utf8')) }));
}
