/**
 * The index of the data docs: every run, newest first, with its flow, state,
 * start, duration, rows per stage, validation and meta-validation outcome and
 * error code, each linking to `runs/<id>.html`.
 */
import type { RunRecord } from '../flow/run-record.ts'
import { count, duration, percent, timestamp } from './format.ts'
import { html, raw, type SafeHtml } from './html.ts'
import { page } from './layout.ts'
import { readSummary } from './read.ts'
import { stageCounts } from './stages.ts'
import { stateBadge } from './timings.ts'
import { warned } from './run-page.ts'
import type { ValidationStageSummary } from '../pipelines/summary.ts'

/** Newest first: by start time, then by id (ids are time-sortable). */
export function newestFirst(records: readonly RunRecord[]): RunRecord[] {
  return [...records].sort((a, b) => (b.start ?? '').localeCompare(a.start ?? '') || b.id.localeCompare(a.id))
}

function outcome(v: ValidationStageSummary | undefined, noun: string): SafeHtml {
  if (!v) return html`<span class="muted">–</span>`
  const st = v.statistics
  return v.success
    ? html`<span class="badge passed"><span aria-hidden="true">✔ </span>Passed</span> <span class="detail muted">${count(st.evaluated_expectations)} ${noun}</span>`
    : html`<span class="badge failed"><span aria-hidden="true">✖ </span>Failed</span> <span class="detail">${count(st.unsuccessful_expectations)} of ${count(st.evaluated_expectations)} failed (${percent(st.success_percent)} ok)</span>`
}

function rowsCell(record: RunRecord): SafeHtml {
  const s = readSummary(record.summary)
  const c = stageCounts(s)
  const parts: [string, number | undefined][] = [['extracted', c.extracted], ['validated', c.validated], ['transformed', c.transformed], ['loaded', c.loaded]]
  const known = parts.filter(([, n]) => n !== undefined)
  if (!known.length) return html`<span class="muted">–</span>`
  const notLoaded = s.gate && !s.gate.committed
  return html`${known.map(([name, n], i) => html`${i ? ' → ' : ''}<span title="${name}">${count(n)}</span>`)}${notLoaded ? html` → <span class="bad">not loaded</span>` : ''}
<span class="sr-only">(${known.map(([name, n]) => `${count(n)} ${name}`).join(', ')}${notLoaded ? ', not loaded' : ''})</span>${c.quarantined ? html`<br><span class="small muted">${count(c.quarantined)} quarantined</span>` : ''}`
}

/** The feature group's rows after the run's commit (LoadReport.rowsAfter): "unknown" where the store cannot tell. */
function storeRowsCell(s: ReturnType<typeof readSummary>): SafeHtml {
  if (!s.load) return html`<span class="muted">–</span>`
  const after = (s.load.report as { rowsAfter?: unknown } | undefined)?.rowsAfter
  return typeof after === 'number' ? html`${count(after)}` : html`<span class="muted">unknown</span>`
}

function row(record: RunRecord): SafeHtml {
  const s = readSummary(record.summary)
  const warn = warned(record, s)
  return html`<tr data-run="${record.id}" data-state="${record.state}">
<th scope="row"><a href="runs/${encodeURIComponent(record.id)}.html"><code>${record.id}</code></a> <span class="detail muted">${record.flow}</span></th>
<td class="state">${stateBadge(record.state)}${warn ? html` <span class="badge warn"><span aria-hidden="true">▲ </span>data failed</span>` : ''}${record.error ? html` <code class="detail">${record.error.code}</code>` : ''}</td>
<td class="num">${timestamp(record.start, false)}</td>
<td class="num">${duration(record.durationMs)}</td>
<td class="num">${rowsCell(record)}</td>
<td class="num">${storeRowsCell(s)}</td>
<td class="outcome">${outcome(s.validation, 'expectations')}</td>
<td class="outcome">${outcome(s.meta, 'checks')}</td>
</tr>`
}

/** One run's row of the index, rendered (HTML-escaped) once. */
export interface IndexEntry {
  readonly id: string
  readonly start: string
  readonly state: string
  /** The `<tr>` of the run: our own rendering, every value from the record escaped. */
  readonly row: string
}

export function indexEntry(record: RunRecord): IndexEntry {
  return { id: record.id, start: record.start ?? '', state: record.state, row: row(record).value }
}

/** Newest first, as newestFirst orders records. */
export function newestEntriesFirst(entries: readonly IndexEntry[]): IndexEntry[] {
  return [...entries].sort((a, b) => b.start.localeCompare(a.start) || b.id.localeCompare(a.id))
}

/**
 * The index page of the data docs: a complete, self-contained document
 * listing `records` newest first (whatever order they come in), each linking
 * to `runs/<id>.html`. Every value from the records is HTML-escaped. Pure.
 */
export function renderIndex(records: readonly RunRecord[]): string {
  return renderIndexEntries(newestFirst(records).map(indexEntry))
}

/** The index page from rendered rows, in the order given (newest first). `truncated`: older runs exist but are not listed. Pure. */
export function renderIndexEntries(runs: readonly IndexEntry[], truncated = false): string {
  const failed = runs.filter((r) => r.state !== 'Completed' && r.state !== 'Running').length
  const body = html`<header>
<h1>Runs</h1>
<p class="sub">${count(runs.length)} run${runs.length === 1 ? '' : 's'}${runs.length ? html`, ${count(failed)} not completed; newest first` : ''}. Each links to its report.${truncated ? html` The newest ${count(runs.length)} are listed; <code>etl runs</code> lists all.` : ''}</p>
</header>
<section aria-labelledby="runs-h">
<h2 id="runs-h" class="sr-only">All runs</h2>
${runs.length === 0 ? html`<p>No run has been recorded yet.</p>` : html`<div class="scroll"><table class="runs">
<caption>Runs, newest first</caption>
<thead><tr><th scope="col">Run <span class="muted">and flow</span></th><th scope="col">State <span class="muted">and error</span></th><th scope="col" class="num">Started</th><th scope="col" class="num">Duration</th><th scope="col" class="num">Rows (extracted → loaded)</th><th scope="col" class="num">Store rows</th><th scope="col">Validation</th><th scope="col">Meta-validation</th></tr></thead>
<tbody>
${runs.map((r) => raw(r.row))}
</tbody>
</table></div>`}
</section>`
  return page(`Runs (${runs.length}) · prostate-etl`, body)
}
