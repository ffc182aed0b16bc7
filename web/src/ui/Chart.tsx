// A time chart (uPlot: small and fast). Series share the x axis (seconds since epoch); each may use its own scale.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series { label: string; values: (number | null)[]; color: string; scale?: string; dash?: boolean }

/** `x` is seconds since the epoch (a time axis), or with xLabel any number (hours into a replay…). */
export function Chart({ title, x, series, height = 220, xLabel }: { title: string; x: number[]; series: Series[]; height?: number; xLabel?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const scales = [...new Set(series.map((s) => s.scale ?? 'y'))];
    const plot = new uPlot({
      width: Math.max(280, el.clientWidth),
      height,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, scale: s.scale ?? 'y', dash: s.dash ? [6, 4] : undefined }))],
      axes: [xLabel ? { label: xLabel } : {}, ...scales.map((sc, i) => ({ scale: sc, side: i === 0 ? 3 : 1, grid: { show: i === 0 }, label: sc === 'y' ? undefined : sc }))],
      scales: { x: { time: !xLabel } },
      legend: { live: false },
    }, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.destroy(); };
  }, [x, series, height, xLabel]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${series.map((s) => s.label).join(', ')}`} />
    </figure>
  );
}
