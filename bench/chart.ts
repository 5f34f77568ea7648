// bench/throughput.svg: grouped bars, forwarding throughput by slices in flight (groups) and slice size (bars),
// with the plain limit at 16 MiB slices marked over each group. Hand-written SVG, no dependencies.

export interface SweepPoint { concurrency: number; sliceMiB: number; mibps: number }
export interface LimitPoint { concurrency: number; mibps: number }

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1'];

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function niceMax(v: number): { max: number; step: number } {
  const raw = v / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { max: Math.ceil(v / step) * step, step };
}

export function throughputSvg(points: SweepPoint[], limits: LimitPoint[], opts: { title: string; subtitle: string; footnote?: string }): string {
  const W = 760, H = 460;
  const m = { left: 70, right: 170, top: 64, bottom: 62 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const concurrencies = [...new Set(points.map((p) => p.concurrency))].sort((a, b) => a - b);
  const sizes = [...new Set(points.map((p) => p.sliceMiB))].sort((a, b) => a - b);
  const { max, step } = niceMax(Math.max(1, ...points.map((p) => p.mibps), ...limits.map((l) => l.mibps)) * 1.08);
  const y = (v: number) => m.top + ph - (v / max) * ph;
  const groupW = pw / concurrencies.length;
  const barW = (groupW * 0.7) / sizes.length;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="bold">${esc(opts.title)}</text>`);
  out.push(`<text x="${m.left}" y="44" fill="#555">${esc(opts.subtitle)}</text>`);
  for (let v = 0; v <= max + 1e-9; v += step) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${v === 0 ? '#333' : '#e3e3e3'}"/>`);
    out.push(`<text x="${m.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#333">${Number(v.toFixed(2))}</text>`);
  }
  out.push(`<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">throughput (MiB/s)</text>`);
  concurrencies.forEach((c, gi) => {
    const gx = m.left + gi * groupW + groupW * 0.15;
    sizes.forEach((s, si) => {
      const p = points.find((q) => q.concurrency === c && q.sliceMiB === s);
      if (!p) return;
      const x = gx + si * barW;
      out.push(`<rect x="${x.toFixed(1)}" y="${y(p.mibps).toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(m.top + ph - y(p.mibps)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${c} in flight, ${s} MiB slices: ${p.mibps.toFixed(0)} MiB/s</title></rect>`);
      // The value sits inside the top of the bar, clear of the limit marks drawn across the group.
      const inside = m.top + ph - y(p.mibps) > 18;
      out.push(`<text x="${(x + (barW - 3) / 2).toFixed(1)}" y="${(inside ? y(p.mibps) + 13 : y(p.mibps) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="${inside ? '#ffffff' : '#333'}">${p.mibps.toFixed(0)}</text>`);
    });
    const l = limits.find((q) => q.concurrency === c);
    if (l) {
      out.push(`<line x1="${(gx - 4).toFixed(1)}" x2="${(gx + sizes.length * barW + 1).toFixed(1)}" y1="${y(l.mibps).toFixed(1)}" y2="${y(l.mibps).toFixed(1)}" stroke="#222" stroke-width="2" stroke-dasharray="6 3"/>`);
    }
    out.push(`<text x="${(m.left + gi * groupW + groupW / 2).toFixed(1)}" y="${m.top + ph + 20}" text-anchor="middle" fill="#333">${c}</text>`);
  });
  out.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 44}" text-anchor="middle" fill="#333">slices in flight (SLICE_CONCURRENCY)</text>`);
  const lx = m.left + pw + 20;
  out.push(`<text x="${lx}" y="${m.top + 4}" font-weight="bold" fill="#333">slice size</text>`);
  sizes.forEach((s, si) => {
    const ly = m.top + 16 + si * 22;
    out.push(`<rect x="${lx}" y="${ly}" width="14" height="14" fill="${COLORS[si % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly + 11}" fill="#333">${s} MiB</text>`);
  });
  if (limits.length) {
    const ly = m.top + 16 + sizes.length * 22 + 10;
    out.push(`<line x1="${lx}" x2="${lx + 14}" y1="${ly + 7}" y2="${ly + 7}" stroke="#222" stroke-width="2" stroke-dasharray="6 3"/>`);
    out.push(`<text x="${lx + 20}" y="${ly + 11}" fill="#333">plain limit</text>`);
    out.push(`<text x="${lx + 20}" y="${ly + 25}" fill="#333">(16 MiB slices)</text>`);
  }
  if (opts.footnote) out.push(`<text x="${W - 10}" y="${H - 8}" text-anchor="end" font-size="10" fill="#777">${esc(opts.footnote)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
