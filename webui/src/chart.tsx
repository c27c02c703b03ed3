// A small SVG bar chart (no chart library: a few dozen bars do not need one). The last 60
// points are drawn; every bar has a <title> so hovering or a screen reader gives the value.
export function BarChart({ points, title }: { points: { label: string; value: number }[]; title: string }) {
  const shown = points.slice(-60);
  if (!shown.length) return <p class="muted">No data yet.</p>;
  const W = 900;
  const H = 170;
  const left = 40;
  const bottom = 22;
  const max = Math.max(...shown.map((p) => p.value), 1);
  const slot = (W - left) / shown.length;
  const barW = Math.max(2, Math.min(40, slot * 0.8));
  const y = (v: number) => (H - bottom) * (1 - v / max) + 4;
  const every = Math.ceil(shown.length / 8);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} preserveAspectRatio="none">
      <line class="axis" x1={left} x2={W} y1={H - bottom + 4} y2={H - bottom + 4} />
      <text x={left - 6} y={12} text-anchor="end">
        {max}
      </text>
      <text x={left - 6} y={H - bottom + 4} text-anchor="end">
        0
      </text>
      {shown.map((p, i) => {
        const x = left + i * slot + (slot - barW) / 2;
        return (
          <g key={p.label}>
            <rect class="bar-rect" x={x} y={y(p.value)} width={barW} height={Math.max(0, H - bottom + 4 - y(p.value))}>
              <title>{`${p.label}: ${p.value}`}</title>
            </rect>
            {i % every === 0 && (
              <text x={x + barW / 2} y={H - 4} text-anchor="middle">
                {p.label.slice(5)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
