import { readFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { default as addFormatsCjs } from 'ajv-formats';
import { XMLParser } from 'fast-xml-parser';

// ajv-formats is CJS (`exports.default = plugin`): under NodeNext the default import is the module object.
const addFormats = addFormatsCjs.default;
const ajv = new Ajv2020({ allErrors: true });
addFormats(ajv);
const validateSchema = ajv.compile(JSON.parse(readFileSync(new URL('../fixtures/cctray/cctray.schema.json', import.meta.url), 'utf8')) as object);

export interface FeedProject {
  readonly name: string;
  readonly activity: string;
  readonly lastBuildStatus: string;
  readonly lastBuildLabel?: string;
  readonly lastBuildTime: string;
  readonly webUrl: string;
}

/** XML 1.0 production [2] Char, over a whole document. */
// eslint-disable-next-line no-control-regex
const XML_CHARS = /^[\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/**
 * Parses a cc.xml body twice: xmldom (strict: any error throws) proves the markup well-formed,
 * fast-xml-parser's object is validated against the cctray.org schema. Returns the projects.
 */
export function parseFeed(xml: string): FeedProject[] {
  if (!XML_CHARS.test(xml)) throw new Error('cc.xml holds a character XML 1.0 does not allow');
  new DOMParser({ onError: (level, message) => { if (level !== 'warning') throw new Error(`cc.xml is not well-formed (${level}): ${message}`); } }).parseFromString(xml, 'application/xml');
  // trimValues: false keeps attribute values as written (a trailing space is part of a name); the indentation between elements then reads as text.
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'Project', parseAttributeValue: false, trimValues: false }).parse(xml) as Record<string, unknown>;
  const projects = parsed['Projects'];
  if (projects && typeof projects === 'object' && typeof (projects as Record<string, unknown>)['#text'] === 'string' && !/\S/.test((projects as Record<string, string>)['#text']!)) {
    delete (projects as Record<string, unknown>)['#text'];
  }
  if (!validateSchema(parsed)) throw new Error(`cc.xml does not match the cctray schema: ${ajv.errorsText(validateSchema.errors)}`);
  const root = (parsed as { Projects: '' | { Project?: Record<string, string>[] } }).Projects;
  return (root === '' ? [] : (root.Project ?? [])).map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k.slice(2), v])) as unknown as FeedProject);
}
