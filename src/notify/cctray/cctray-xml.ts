import { XMLBuilder } from 'fast-xml-parser';
import type { CctrayEntry } from './cctray-entries.ts';

/**
 * Characters XML 1.0 cannot carry at all, not even as references: C0 controls (tab, line feed
 * and carriage return aside), lone surrogates, U+FFFE and U+FFFF. Each becomes U+FFFD.
 * The builder escapes the five markup characters; it passes these through, and one of them
 * makes the whole feed unreadable to every monitor.
 */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Line breaks and tabs survive in attributes only as references; a reader would fold them to spaces anyway. */
const WHITESPACE = /[\t\n\r]/g;

export function xmlSafe(text: string): string {
  return text.replace(NOT_XML, '\ufffd').replace(WHITESPACE, ' ');
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true, processEntities: true });

/** The cc.xml document (cctray.org/v1): `<Projects>` with one `<Project>` per entry. */
export function renderCctrayXml(entries: readonly CctrayEntry[]): string {
  const projects = entries.map((e) => ({
    '@_name': xmlSafe(e.name),
    '@_activity': e.activity,
    '@_lastBuildStatus': e.lastBuildStatus,
    ...(e.lastBuildLabel !== null ? { '@_lastBuildLabel': xmlSafe(e.lastBuildLabel) } : {}),
    '@_lastBuildTime': e.lastBuildTime,
    '@_webUrl': xmlSafe(e.webUrl),
  }));
  // An empty <Projects/> is a valid feed: a caller who may see nothing gets it, not an error.
  const body = builder.build({ Projects: projects.length > 0 ? { Project: projects } : '' }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}
