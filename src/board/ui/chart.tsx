import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Okabe–Ito: told apart with the common colour-vision deficiencies. */
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export interface ChartSeries { label: string; values: (number | null)[] }

/** One uPlot line chart over days; rebuilt when its data changes (14 points per series: cheap). */
export function Chart({ title, days, series, unit }: { title: string; days: number[]; series: ChartSeries[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot({
      width: Math.max(320, el.clientWidth),
      height: 240,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true, points: { show: true } }))],
      axes: [{}, { label: unit, size: 60 }],
      scales: { x: { time: true } },
      legend: { show: true },
    }, [days, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    return () => plot.destroy();
  }, [days, series, unit]);
  return (
    <figure class="chart" data-chart={title}>
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
