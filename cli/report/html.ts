// `status --report out.html`: one self-contained page a person reads — totals, a chart of forwards per day (inline
// SVG), counts and bytes per day, failures grouped by error with an example each, the slowest files. No script, no
// external resource (a Content-Security-Policy forbids both); every text from a record is HTML-escaped and bounded.
import type { StatusSummary } from '../../lib/workflow/status';
import { formatBytes } from '../output';

/** Text from records (keys, messages) is foreign: escaped for HTML, control characters shown, and cut at `max`. */
export function esc(v: unknown, max = 300): string {
  const s = String(v ?? '');
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Forwarded (and failed) files per day as stacked bars, the last `maxDays` days. */
function chart(days: StatusSummary['days'], maxDays = 62): string {
  const shown = days.slice(-maxDays);
  if (shown.length === 0) return '<p class="empty">No records in this range.</p>';
  const W = 760;
  const H = 220;
  const pad = { l: 48, r: 8, t: 12, b: 36 };
  const top = Math.max(1, ...shown.map((d) => d.forwarded + d.failed + d.skipped));
  const bw = (W - pad.l - pad.r) / shown.length;
  const y = (n: number) => pad.t + (H - pad.t - pad.b) * (1 - n / top);
  const bars = shown.map((d, i) => {
    const x = pad.l + i * bw + bw * 0.1;
    const w = Math.max(1, bw * 0.8);
    const seg = (from: number, n: number, cls: string) => (n <= 0 ? '' : `<rect class="${cls}" x="${x.toFixed(1)}" `
      + `y="${y(from + n).toFixed(1)}" width="${w.toFixed(1)}" height="${(y(from) - y(from + n)).toFixed(1)}">`
      + `<title>${esc(d.day)}: ${n} ${cls}</title></rect>`);
    const label = shown.length <= 16 || i % Math.ceil(shown.length / 16) === 0
      ? `<text class="x" x="${(x + w / 2).toFixed(1)}" y="${H - pad.b + 14}">${esc(d.day.slice(5))}</text>` : '';
    return seg(0, d.forwarded, 'forwarded') + seg(d.forwarded, d.failed, 'failed') + seg(d.forwarded + d.failed, d.skipped, 'skipped') + label;
  }).join('');
  const axis = `<line class="axis" x1="${pad.l}" y1="${y(0)}" x2="${W - pad.r}" y2="${y(0)}"/>`
    + `<text class="y" x="${pad.l - 6}" y="${y(top) + 4}">${top}</text><text class="y" x="${pad.l - 6}" y="${y(0) + 4}">0</text>`;
  return `<svg id="chart" role="img" aria-label="files per day" viewBox="0 0 ${W} ${H}" width="100%">${axis}${bars}</svg>
<p class="legend"><span class="sw forwarded"></span>forwarded <span class="sw failed"></span>failed <span class="sw skipped"></span>skipped</p>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#1b1f24;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #d8dee4;vertical-align:top}td.n,th.n{text-align:right}
.totals{display:flex;gap:1em;flex-wrap:wrap}.totals div{border:1px solid #d8dee4;border-radius:6px;padding:.6em 1em}
.totals b{display:block;font-size:1.4em}code{font-size:.92em;word-break:break-all}
rect.forwarded,.sw.forwarded{fill:#2da44e;background:#2da44e}rect.failed,.sw.failed{fill:#cf222e;background:#cf222e}
rect.skipped,.sw.skipped{fill:#bf8700;background:#bf8700}.sw{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
text{font-size:11px;fill:#57606a}text.x{text-anchor:middle}text.y{text-anchor:end}line.axis{stroke:#8c959f}.empty{color:#57606a}`;

export function reportHtml(where: string, s: StatusSummary, generatedAt: Date = new Date()): string {
  const total = (label: string, id: string, value: string) => `<div id="${id}">${label}<b>${value}</b></div>`;
  const n = (v: string | number) => `<td class="n">${typeof v === 'number' ? v : esc(v)}</td>`;
  const days = s.days.slice(-366).reverse().map((d) => `<tr><td>${esc(d.day)}</td>${n(d.forwarded)}${n(formatBytes(d.forwardedBytes))}`
    + `${n(d.failed)}${n(formatBytes(d.failedBytes))}${n(d.skipped)}</tr>`).join('\n');
  const errors = s.errors.map((g) => `<tr>${n(g.count)}<td><code>${esc(g.error, 100)}</code>`
    + `${g.ostCode !== null ? ` code ${g.ostCode}` : ''}<br>${esc(g.message)}</td>`
    + `<td><code>${esc(g.exampleKey, 400)}</code>${g.exampleSid ? `<br>sid <code>${esc(g.exampleSid, 100)}</code>` : ''}</td></tr>`).join('\n');
  const slow = s.slowest.map((f) => `<tr>${n(duration(f.durationMs))}<td><code>${esc(f.key, 400)}</code></td>`
    + `${n(f.bytes !== null ? formatBytes(f.bytes) : '?')}<td>${esc(f.mode ?? '?')}</td><td>${esc(f.finishedAt, 40)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ost-forwarder report: ${esc(where, 200)}</title><style>${CSS}</style></head>
<body>
<h1>ost-forwarder: what happened to the files</h1>
<p>Records under <code>${esc(where, 400)}</code>, read ${esc(generatedAt.toISOString())}.</p>
<section class="totals">
${total('forwarded', 'total-forwarded', `${s.forwarded} · ${esc(formatBytes(s.forwardedBytes))}`)}
${total('failed', 'total-failed', `${s.failed} · ${esc(formatBytes(s.failedBytes))}`)}
${total('skipped by the consumer\'s rules', 'total-skipped', String(s.skipped))}
${s.unreadable ? total('unreadable records', 'total-unreadable', String(s.unreadable)) : ''}
</section>
<h2>Files per day</h2>
${chart(s.days)}
<h2>Counts and bytes per day</h2>
<table id="days"><thead><tr><th>day</th><th class="n">forwarded</th><th class="n">bytes</th>
<th class="n">failed</th><th class="n">bytes</th><th class="n">skipped</th></tr></thead>
<tbody>
${days}
</tbody></table>
<h2>Failures by error</h2>
${s.errors.length ? `<table id="errors"><thead><tr><th class="n">files</th><th>error</th><th>example</th></tr></thead><tbody>
${errors}
</tbody></table>${s.otherErrors ? `<p>${s.otherErrors} more failures of other errors.</p>` : ''}` : '<p id="errors" class="empty">No failures.</p>'}
<h2>Slowest files</h2>
${s.slowest.length ? `<table id="slowest"><thead><tr><th class="n">took</th><th>key</th><th class="n">bytes</th><th>mode</th><th>finished</th></tr></thead><tbody>
${slow}
</tbody></table>` : '<p id="slowest" class="empty">No forwarded files.</p>'}
</body></html>
`;
}
