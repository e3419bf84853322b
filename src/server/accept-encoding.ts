/** `br;q=1.0, gzip;q=0.8, *;q=0` as coding → weight. */
export function acceptedCodings(header: string): Map<string, number> {
  const codings = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const weight = q === undefined ? 1 : Number(q);
    codings.set(name, Number.isFinite(weight) ? weight : 0);
  }
  return codings;
}
