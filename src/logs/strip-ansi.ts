/**
 * Removes ANSI escape sequences (SGR colours, cursor moves, erase-line, OSC titles and links),
 * per watcher at the edge. A tested regex rather than a dependency: the grammar is small.
 */
// CSI (ESC [ or the 8-bit CSI) with parameters and a final byte; OSC (ESC ]) up to BEL or ESC \;
// other two-byte escapes (ESC followed by one of @-Z\-_ or a charset designator).
// eslint-disable-next-line no-control-regex -- ANSI sequences start with ESC (or the 8-bit CSI)
const ANSI = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[()#][0-9A-Za-z]|\u001b[@-Z\\^_]/g;

export function stripAnsi(text: string): string {
  let out = text;
  // Again until stable: removing one code can join a stray ESC to what followed it into a new one.
  while (out.includes('\u001b') || out.includes('\u009b')) {
    const next = out.replace(ANSI, '');
    if (next === out) break;
    out = next;
  }
  return out;
}
