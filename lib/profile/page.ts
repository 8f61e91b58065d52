/**
 * The profile page of the data docs (`<dataDir>/docs/profiles/<table>.html`):
 * a row per column with its figures and an inline SVG chart (a histogram of
 * equal-width bins, or a bar per value), static like the run pages: no
 * script, every value escaped, the chart's numbers also in its text
 * alternative. Approximate figures are marked `≈`.
 */
import { count } from '../docs/format.ts'
import { html, raw, type SafeHtml } from '../docs/html.ts'
import { page } from '../docs/layout.ts'
import type { ColumnProfile, HistogramBin, Profile } from './profile.ts'

const W = 220
const H = 64

function num(x: unknown): string {
  if (typeof x !== 'number') return x === null || x === undefined ? '—' : String(x)
  if (Number.isInteger(x)) return count(x)
  return Math.abs(x) >= 1e6 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : String(Number(x.toPrecision(5)))
}

function approx(exact: boolean): string {
  return exact ? '' : '≈ '
}

function label(bin: HistogramBin, kind: 'bins' | 'bars'): string {
  return kind === 'bars' || bin.from === bin.to ? `${num(bin.from)}` : `${num(bin.from)} to ${num(bin.to)}`
}

/** A value cut to what fits under a bar `width` px wide (about 6 px a character). */
function shortLabel(text: string, width: number): string {
  const fit = Math.max(1, Math.floor(width / 6))
  return text.length <= fit ? text : `${text.slice(0, Math.max(1, fit - 1))}…`
}

/** An SVG chart of the bins (bars scaled to the largest count), with a title per bar and a text alternative. */
export function chart(c: ColumnProfile): SafeHtml {
  const bins = c.histogram.value
  const kind = c.histogram.kind
  if (kind === 'none' || !bins.length) return html`<span class="muted">no values</span>`
  const peak = Math.max(...bins.map((b) => b.count), 1)
  const step = W / bins.length
  const gap = bins.length > 1 ? Math.min(2, step / 4) : 0
  const summary = bins.map((b) => `${label(b, kind)}: ${approx(c.histogram.exact)}${b.count}`).join('; ')
  const what = kind === 'bins' ? 'histogram' : 'counts per value'
  const bars = bins.map((b, i) => {
    const h = b.count ? Math.max(1, Math.round((b.count / peak) * (H - 2))) : 0
    return html`<rect x="${(i * step + gap / 2).toFixed(1)}" y="${H - h}" width="${Math.max(1, step - gap).toFixed(1)}" height="${h}"><title>${label(b, kind)}: ${approx(c.histogram.exact)}${b.count}</title></rect>`
  })
  // A few bars of single values get their value written under them.
  const labelled = kind === 'bars' && bins.length <= 12
  const names = labelled ? bins.map((b, i) => html`<text x="${(i * step + step / 2).toFixed(1)}" y="${H + 13}" text-anchor="middle">${shortLabel(String(b.from), step)}</text>`) : []
  const height = H + 1 + (labelled ? 15 : 0)
  return html`<svg class="chart" role="img" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" aria-label="${c.name}: ${what}; ${summary}"><g>${bars}</g><line x1="0" y1="${H + 0.5}" x2="${W}" y2="${H + 0.5}"/>${names}</svg>
<span class="axis small muted">${kind === 'bins' ? `${num(bins[0]!.from)} … ${num(bins[bins.length - 1]!.to)}` : `${bins.length} value${bins.length === 1 ? '' : 's'}${kind === 'bars' && c.family !== 'numeric' ? ', most common first' : ''}`}</span>`
}

function figures(c: ColumnProfile): SafeHtml {
  const rows: [string, unknown][] = [
    ['nulls', `${count(c.nulls)} (${c.rows ? ((100 * c.nulls) / c.rows).toFixed(1) : '0.0'}%)`],
    ['distinct', `${approx(c.distinct.exact)}${count(c.distinct.value)}`],
    ['min', num(c.min)],
    ['max', num(c.max)],
  ]
  if (c.mean !== null) rows.push(['mean', num(c.mean)])
  if (c.stdev !== null) rows.push(['stdev', num(c.stdev)])
  if (c.quantiles.value.length) rows.push(['quartiles', `${approx(c.quantiles.exact)}${c.quantiles.value.filter((q) => [0.25, 0.5, 0.75].includes(q.q)).map((q) => num(q.value)).join(' · ')}`])
  if (c.lengths) rows.push(['lengths', `${c.lengths.min}–${c.lengths.max} (mean ${num(c.lengths.mean)})`])
  if (c.pattern) rows.push(['shape', c.pattern])
  return html`<dl class="kwargs">${rows.map(([k, v]) => html`<div><dt>${k}</dt><dd>${k === 'shape' ? html`<code>${v}</code>` : v}</dd></div>`)}</dl>`
}

function common(c: ColumnProfile): SafeHtml {
  const top = c.mostCommon.value.slice(0, 5)
  if (!top.length) return html`<span class="muted">—</span>`
  return html`<ul class="chips">${top.map((t) => html`<li><code class="value">${t.value.length > 40 ? `${t.value.slice(0, 40)}…` : t.value}</code> ×${approx(c.mostCommon.exact)}${count(t.count)}</li>`)}</ul>`
}

/** The whole profile page. */
export function renderProfilePage(profile: Profile): string {
  const approximate = profile.columns.some((c) => !c.distinct.exact)
  const body = html`<p class="crumbs"><a href="../index.html">Data docs</a> / profiles</p>
<h1>Profile of ${profile.source}</h1>
<p class="sub">${count(profile.rows)} rows, ${profile.columns.length} columns, profiled ${profile.profiledAt} in one pass (${(profile.durationMs / 1000).toFixed(1)} s).</p>
<section aria-labelledby="columns-h">
<h2 id="columns-h">Columns</h2>
<p class="small muted">${approximate ? raw('Figures marked ≈ are approximate (more than 10,000 distinct values): distinct counts within 0.81% (standard error), quantiles and histograms within 1.65% of rank, most common counts at most rows/1,001 too low. ') : raw('Every figure is exact (no column has more than 10,000 distinct values). ')}Rows, nulls, min, max, mean and stdev are always exact.</p>
<div class="scroll"><table class="columns profile">
<caption>One row per column, in table order</caption>
<thead><tr><th scope="col">column</th><th scope="col">looks like</th><th scope="col">figures</th><th scope="col">distribution</th><th scope="col">most common</th></tr></thead>
<tbody>
${profile.columns.map((c) => html`<tr><th scope="row"><span class="label">${c.name}</span><span class="type">${c.type}</span></th><td>${c.looksLike}</td><td>${figures(c)}</td><td>${chart(c)}</td><td>${common(c)}</td></tr>
`)}</tbody></table></div>
</section>`
  return page(`Profile: ${profile.source}`, body)
}
