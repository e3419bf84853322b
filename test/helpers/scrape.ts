import { getMetricsFromIterator, type PromHistogramData, type PromData, type PromMetrics } from 'prom2javascript';

export type { PromMetrics };

/** GET a Prometheus endpoint and parse the exposition with a text-format parser (prom2javascript). */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<PromMetrics> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`scrape ${url}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return getMetricsFromIterator(text.split('\n')[Symbol.iterator]());
}

/** The samples of a counter or gauge family (throws when the family is missing). */
export function samples(metrics: PromMetrics, name: string): PromData[] {
  const family = metrics[name];
  if (!family) throw new Error(`family ${name} missing; have: ${Object.keys(metrics).join(', ')}`);
  return family.data as PromData[];
}

export function histograms(metrics: PromMetrics, name: string): PromHistogramData[] {
  const family = metrics[name];
  if (!family) throw new Error(`family ${name} missing; have: ${Object.keys(metrics).join(', ')}`);
  if (family.type !== 'histogram') throw new Error(`family ${name} is a ${family.type}`);
  return family.data as PromHistogramData[];
}

/** The sum of the values of the samples whose labels include `where`. */
export function total(metrics: PromMetrics, name: string, where: Record<string, string> = {}): number {
  return samples(metrics, name)
    .filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** The summed `_count` of a histogram's series whose labels include `where`. */
export function observations(metrics: PromMetrics, name: string, where: Record<string, string> = {}): number {
  return histograms(metrics, name)
    .filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.count, 0);
}
