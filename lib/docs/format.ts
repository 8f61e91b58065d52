/**
 * Formatting of numbers, times and data values for the data docs. Pure and
 * locale-independent (en-US grouping, UTC times), so a page reads the same
 * wherever it is built.
 */
import { html, type SafeHtml } from './html.ts'

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** `97`, `300,000`; a non-number as `–`. */
export function count(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? grouped.format(n) : '–'
}

/** `2.06%`, `0%`, `100%`, `33.33%`; at most 2 decimals, trailing zeros dropped; a non-number as `–`. */
export function percent(p: unknown): string {
  if (typeof p !== 'number' || !Number.isFinite(p)) return '–'
  return `${Number(p.toFixed(2))}%`
}

/** `85 ms`, `3.26 s`, `2 min 05 s`, `1 h 02 min`; a non-number as `–`. */
export function duration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  const m = Math.round(s / 60)
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`
}

/** An ISO 8601 time as `2026-11-24 18:47:34.809 UTC` (without milliseconds unless `ms`) inside a `<time>` element; anything else as text. */
export function timestamp(iso: unknown, ms = true): SafeHtml {
  if (typeof iso !== 'string') return html`–`
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return html`${iso}`
  const shown = d.toISOString().replace('T', ' ').replace(ms ? 'Z' : /\.\d+Z$/, ' UTC')
  return html`<time datetime="${d.toISOString()}">${shown}</time>`
}

/** Milliseconds between two ISO times, or undefined. */
export function between(start: unknown, end: unknown): number | undefined {
  if (typeof start !== 'string' || typeof end !== 'string') return undefined
  const ms = Date.parse(end) - Date.parse(start)
  return Number.isFinite(ms) ? ms : undefined
}

/** Items of a list shown before `… and N more`. */
export const LIST_LIMIT = 50
/** Characters of one value shown before it is cut. */
export const TEXT_LIMIT = 300

function cut(text: string): string {
  return text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}… (${count(text.length)} characters)` : text
}

/** JSON with a space after `,` and `:` between tokens, so a long object wraps between its parts. */
function spacedJson(value: unknown): string | undefined {
  const text: string | undefined = JSON.stringify(value)
  return text?.replace(/("(?:[^"\\]|\\.)*")|([,:])/g, (m, quoted: string | undefined) => (quoted ? m : `${m} `))
}

/** A data value as text: strings as they are (the empty string as `""`), null as `null`, the rest as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return cut(value === '' ? '""' : value)
  if (value === undefined) return '–'
  try {
    return cut(spacedJson(value) ?? String(value))
  } catch {
    return cut(String(value))
  }
}

/** A value as `<code>`; an array as a list of chips (at most LIST_LIMIT, then `… and N more`). */
export function valueHtml(value: unknown): SafeHtml {
  if (Array.isArray(value)) return chips(value)
  return html`<code class="value">${valueText(value)}</code>`
}

/** A list of values as chips. */
export function chips(values: readonly unknown[], counts?: readonly number[]): SafeHtml {
  if (values.length === 0) return html`<span class="muted">none</span>`
  const shown = values.slice(0, LIST_LIMIT).map((v, i) => {
    const n = counts?.[i]
    return html`<li><code>${valueText(v)}</code>${n === undefined ? '' : html` <span class="times">×${count(n)}</span>`}</li>`
  })
  const more = values.length > LIST_LIMIT ? html`<li class="more">… and ${count(values.length - LIST_LIMIT)} more</li>` : ''
  return html`<ul class="chips">${shown}${more}</ul>`
}
