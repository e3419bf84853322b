import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GatewayApi } from './api.ts';
import { Chart, type ChartSeries } from './chart.tsx';
import { projectMatcher, type BoardFilters } from './filters.ts';
import { ANALYTICS_QUERY } from './queries.ts';
import type { AnalyticsData } from './types.ts';

const DAY = 86_400_000;
const DAYS = 14;

/** Project → one value per day of the last 14 (UTC), null where nothing finished. */
function perDay(entries: { project: string; at: number; value: number }[], reduce: (values: number[]) => number, start: number): ChartSeries[] {
  const byProject = new Map<string, number[][]>();
  for (const e of entries) {
    const day = Math.floor((e.at - start) / DAY);
    if (day < 0 || day >= DAYS) continue;
    const days = byProject.get(e.project) ?? Array.from({ length: DAYS }, () => []);
    days[day]!.push(e.value);
    byProject.set(e.project, days);
  }
  return [...byProject.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, days]) => ({ label, values: days.map((v) => (v.length ? reduce(v) : null)) }));
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Success rate, p95 duration and time to green per project over 14 days, from the gateway's history. */
export function Analytics({ api, filters }: { api: GatewayApi; filters: BoardFilters }) {
  const [data, setData] = useState<AnalyticsData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    const filter = { ...(filters.backend ? { backends: [filters.backend] } : {}), ...(filters.branch ? { branches: [filters.branch] } : {}) };
    let timer: ReturnType<typeof setTimeout> | undefined;
    api.query<AnalyticsData>(ANALYTICS_QUERY, { filter }).then((d) => {
      setData(d);
      setError(null);
      // While the history opens (or imports the backends' past) ask again soon; then once a minute.
      const ready = d.pipelineStats !== null && d.pipelineStats.groups.length > 0;
      timer = setTimeout(() => setRound((r) => r + 1), ready ? 60_000 : 5000);
    }, (e: Error) => setError(e.message));
    return () => clearTimeout(timer);
  }, [api, filters, round]);
  const charts = useMemo(() => {
    if (!data) return null;
    const start = Math.floor(Date.now() / DAY) * DAY - (DAYS - 1) * DAY;
    const days = Array.from({ length: DAYS }, (_, i) => (start + i * DAY) / 1000);
    const matches = projectMatcher(filters);
    const groups = (data.pipelineStats?.groups ?? []).filter((g) => matches(g.key.project));
    const at = (iso: string) => Date.parse(iso);
    const rate = perDay(groups.map((g) => ({ project: g.key.project, at: at(g.key.bucket), value: g.successRate * 100 })), mean, start);
    const p95 = perDay(groups.flatMap((g) => (g.duration.p95 === null ? [] : [{ project: g.key.project, at: at(g.key.bucket), value: g.duration.p95 / 60_000 }])), mean, start);
    const periods = (data.timeToGreen?.series ?? []).filter((s) => matches(s.project))
      .flatMap((s) => s.periods.flatMap((p) => (p.endedAt ? [{ project: s.project, at: at(p.endedAt), value: p.durationMs / 3_600_000 }] : [])));
    return { days, rate, p95, ttg: perDay(periods, mean, start) };
  }, [data, filters]);
  if (error) return <p class="error" role="alert">Analytics unavailable: {error}</p>;
  if (!charts) return <p>Loading analytics…</p>;
  if (data?.pipelineStats === null) return <p class="empty">The history is not available yet (it opens at start, or is off); asking again in a few seconds.</p>;
  return (
    <section class="analytics" aria-label="analytics">
      <Chart title="Success rate per day (%)" unit="%" days={charts.days} series={charts.rate} />
      <Chart title="p95 pipeline duration per day (minutes)" unit="min" days={charts.days} series={charts.p95} />
      <Chart title="Time to green: mean red period closed that day (hours)" unit="h" days={charts.days} series={charts.ttg} />
    </section>
  );
}
