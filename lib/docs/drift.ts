/**
 * Drift on a run page: for each aggregate expectation of the run's suite (one
 * that observed a number), a small SVG chart of its observed value over the
 * recent runs up to this one (lib/validate/history.ts), with the
 * expectation's own bounds drawn as dashed lines and, where it has
 * `meta.history`, the band it was checked against. Static, no script; the
 * values are also in the chart's text alternative.
 */
import type { ExpectationResult } from '../expectations/types.ts'
import type { History, HistoryPoint } from '../validate/history.ts'
import { html, type SafeHtml } from './html.ts'

const W = 260
const H = 70
const PAD = 4
export const DRIFT_RUNS = 30

function short(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)))
}

function chart(label: string, points: readonly HistoryPoint[], bounds: readonly number[], band: readonly number[] | undefined): SafeHtml {
  const values = points.map((p) => p.value)
  const all = [...values, ...bounds, ...(band ?? [])].filter((x) => Number.isFinite(x))
  let lo = Math.min(...all)
  let hi = Math.max(...all)
  if (lo === hi) {
    lo -= 1
    hi += 1
  }
  const y = (v: number) => (PAD + (H - 2 * PAD) * (1 - (v - lo) / (hi - lo))).toFixed(1)
  const x = (i: number) => (points.length === 1 ? W / 2 : PAD + ((W - 2 * PAD) * i) / (points.length - 1)).toFixed(1)
  const line = points.map((p, i) => `${x(i)},${y(p.value)}`).join(' ')
  const alt = `${label}: observed ${points.map((p) => `${short(p.value)}${p.success ? '' : ' (failed)'}`).join(', ')}${bounds.length ? `; bounds ${bounds.map(short).join(' to ')}` : ''}${band ? `; history band ${band.map(short).join(' to ')}` : ''}`
  return html`<svg class="drift" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" aria-label="${alt}">
${band ? html`<rect class="band" x="0" y="${y(band[1]!)}" width="${W}" height="${(Number(y(band[0]!)) - Number(y(band[1]!))).toFixed(1)}"/>` : ''}
${bounds.map((b) => html`<line class="bound" x1="0" x2="${W}" y1="${y(b)}" y2="${y(b)}"/>`)}
<polyline class="observed" points="${line}"/>
${points.map((p, i) => html`<circle class="${p.success ? 'ok' : 'failed'}" cx="${x(i)}" cy="${y(p.value)}" r="${i === points.length - 1 ? 3.5 : 2.2}"><title>${p.run}: ${short(p.value)}${p.success ? '' : ' (failed)'}</title></circle>`)}
</svg>`
}

/** The points of `id` up to and including `runId` (the page of an older run shows the history as it then was). */
function pointsUpTo(history: History, id: string, runId: string): HistoryPoint[] {
  const all = history.expectations[id] ?? []
  const end = all.findIndex((p) => p.run === runId)
  return (end === -1 ? [] : all.slice(0, end + 1)).slice(-DRIFT_RUNS)
}

/** The drift section, or nothing when no aggregate expectation of this run has earlier values. */
export function driftSection(runId: string, results: readonly ExpectationResult[], history: History | undefined): SafeHtml | '' {
  if (!history) return ''
  const rows: SafeHtml[] = []
  for (const r of results) {
    const id = r.meta?.['expectation_id']
    if (typeof id !== 'string') continue
    const points = pointsUpTo(history, id, runId)
    if (points.length < 2) continue
    const kwargs = r.expectation_config.kwargs as Record<string, unknown>
    const bounds = [kwargs['min_value'], kwargs['max_value'], kwargs['value']].filter((b): b is number => typeof b === 'number' && Number.isFinite(b))
    const h = (r.result as { details?: { history?: { band?: readonly number[] } } }).details?.history
    const label = String(r.meta?.['label'] ?? id)
    rows.push(html`<tr><th scope="row"><span class="label">${label}</span><span class="type">${r.expectation_config.expectation_type}</span></th><td>${chart(label, points, bounds, h?.band)}</td><td class="num">${points.length}</td><td class="num">${short(points[points.length - 1]!.value)}</td></tr>`)
  }
  if (!rows.length) return ''
  return html`<section aria-labelledby="drift-h">
<h2 id="drift-h">Drift</h2>
<p class="small muted">What each aggregate expectation observed over the last runs up to this one (at most ${DRIFT_RUNS}); dashed lines are its bounds, a shaded band the <code>meta.history</code> band it was checked against, a hollow point a run in which it failed.</p>
<div class="scroll"><table class="columns drift">
<caption>Observed values over recent runs</caption>
<thead><tr><th scope="col">expectation</th><th scope="col">observed over runs</th><th scope="col" class="num">runs</th><th scope="col" class="num">this run</th></tr></thead>
<tbody>${rows}</tbody></table></div>
</section>`
}
