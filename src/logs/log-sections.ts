/**
 * Section markers of the providers, parsed from one line (pure):
 * - GitLab: `section_start:<unix seconds>:<name>[options]\r\e[0K<title>` and `section_end:<unix seconds>:<name>\r\e[0K`,
 *   optionally after `\e[0K`;
 * - GitHub: `##[group]<title>` and `##[endgroup]`, optionally after an ISO timestamp and a space.
 */
import type { LogSectionModel } from './log-types.ts';

export type ParsedSection = Omit<LogSectionModel, 'offset'>;

// eslint-disable-next-line no-control-regex -- ESC is what GitLab writes around its markers
const GITLAB = /^(?:\u001b\[0K)?section_(start|end):(\d{1,12}):([A-Za-z0-9_.-]+)(?:\[[^\]\r\n]*\])?(?:\r|\u001b\[0K|$)/;
const GITHUB = /^(?:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) )?##\[(group|endgroup)\](.*?)\r?$/;

function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

/** The section marker `line` (without its newline) holds, or null. GitHub's end names no group: ''. */
export function parseSectionLine(line: string): ParsedSection | null {
  const gitlab = GITLAB.exec(line);
  if (gitlab) return { marker: gitlab[1] === 'start' ? 'START' : 'END', name: gitlab[3]!, at: isoOrNull(Number(gitlab[2]) * 1000) };
  const github = GITHUB.exec(line);
  if (github) {
    const at = github[1] ? isoOrNull(Date.parse(github[1])) : null;
    return { marker: github[2] === 'group' ? 'START' : 'END', name: github[2] === 'group' ? github[3]!.trim() : '', at };
  }
  return null;
}

/** Names GitHub's ends after the group they close (one stack per log read in order). */
export class SectionStack {
  private readonly open: string[] = [];

  name(section: ParsedSection): ParsedSection {
    if (section.marker === 'START') {
      this.open.push(section.name);
      return section;
    }
    const index = section.name === '' ? this.open.length - 1 : this.open.lastIndexOf(section.name);
    if (index < 0) return section;
    const [name] = this.open.splice(index, this.open.length - index);
    return { ...section, name: name! };
  }
}
