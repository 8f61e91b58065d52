/**
 * The stage parts of a run page: the flow picture (rows per stage as boxes
 * joined by arrows, each with its duration; quarantined and dropped rows as
 * asides), and the extract, transform and load sections.
 */
import type { RunRecord } from '../flow/run-record.ts'
import type { RunSummary } from '../pipelines/summary.ts'
import type { Column } from '../types.ts'
import { count, duration, valueText } from './format.ts'
import { html, type SafeHtml } from './html.ts'
import { isObject, num, str } from './read.ts'

/** Rows per stage: summary.counts when present, else each stage's own summary. */
export function stageCounts(s: RunSummary): { extracted?: number; validated?: number; quarantined?: number; transformed?: number; dropped?: number; loaded?: number } {
  const c = s.counts ?? {}
  return {
    extracted: num(c.extracted) ?? num(s.extract?.rows),
    validated: num(c.validated) ?? num(s.validation?.rows),
    quarantined: num(c.quarantined) ?? num(s.validation?.quarantinedRows),
    transformed: num(c.transformed) ?? num(s.transform?.rows),
    dropped: num(c.dropped) ?? num(s.transform?.dropped),
    loaded: s.load ? num(s.load.rows) : s.gate?.committed === false ? undefined : num(c.loaded),
  }
}

interface Box { readonly stage: string; readonly rows: number | undefined; readonly ms?: number | undefined; readonly aside?: SafeHtml; readonly cls?: string }

function box({ stage, rows, ms, aside, cls }: Box): SafeHtml {
  const none = rows === undefined
  return html`<li class="${cls ?? (none ? 'none' : '')}" data-stage="${stage.toLowerCase()}"><span class="stage">${stage}</span>
<span class="rows">${none ? '–' : count(rows)}</span> <span class="aside">${none ? 'not in this run' : rows === 1 ? 'row' : 'rows'}${ms === undefined ? '' : html` · ${duration(ms)}`}</span> ${aside ?? ''}</li>`
}

/** The flow picture: extracted → validated → transformed → loaded. */
export function flowPicture(s: RunSummary): SafeHtml {
  const c = stageCounts(s)
  const gateStopped = s.gate && !s.gate.committed
  const boxes: Box[] = [
    { stage: 'Extracted', rows: c.extracted, ms: num(s.extract?.durationMs) },
    {
      stage: 'Validated', rows: c.validated, ms: num(s.validation?.durationMs),
      aside: c.quarantined === undefined ? undefined : html`<span class="aside${c.quarantined ? ' bad' : ''}">${count(c.quarantined)} quarantined</span>`,
    },
    {
      stage: 'Transformed', rows: c.transformed, ms: num(s.transform?.durationMs),
      aside: c.dropped === undefined ? undefined : html`<span class="aside${c.dropped ? ' bad' : ''}">${count(c.dropped)} dropped (missing values)</span>`,
    },
    gateStopped
      ? { stage: 'Loaded', rows: 0, cls: 'stopped', aside: html`<span class="aside bad">stopped by the quality gate</span>` }
      : { stage: 'Loaded', rows: c.loaded, ms: num(s.load?.durationMs) },
  ]
  const words = boxes.map((b) => `${b.stage.toLowerCase()} ${b.rows === undefined ? 'not in this run' : count(b.rows)}`).join(', ')
  return html`<section aria-labelledby="flow-h">
<h2 id="flow-h">Rows through the pipeline</h2>
<figure class="flow">
<ol class="flow">${boxes.map(box)}</ol>
<figcaption>Rows per stage: ${words}${c.quarantined ? `; ${count(c.quarantined)} quarantined` : ''}${c.dropped ? `; ${count(c.dropped)} dropped` : ''}. Durations are each stage's own; in a one-pass run the stages overlap.</figcaption>
</figure>
</section>`
}

function fileLine(label: string, file: unknown): SafeHtml {
  return typeof file === 'string' ? html`<li>${label}: <code>${file}</code></li>` : html``
}

/** Source, rows and columns (with the transform's missing and filled counts per column). */
export function extractSection(s: RunSummary): SafeHtml {
  const e = s.extract
  if (!e) return html``
  const missing = isObject(s.transform?.missing) ? s.transform.missing : undefined
  const filled = isObject(s.transform?.filled) ? s.transform.filled : undefined
  return html`<section aria-labelledby="extract-h">
<h2 id="extract-h">Extract</h2>
<p>${count(e.rows)} rows from <strong>${str(e.source) ?? 'the source'}</strong>${num(e.durationMs) === undefined ? '' : html` in ${duration(e.durationMs)}`}.</p>
<ul class="small">${fileLine('Stage file', e.file)}</ul>
${partitionsTable(s)}
<div class="scroll"><table class="columns">
<caption>Columns of the source (${count(e.columns.length)})${missing ? ', with missing values counted by the transform' : ''}</caption>
<thead><tr><th scope="col">Column</th><th scope="col">PostgreSQL type</th>${missing ? html`<th scope="col" class="num">Missing</th><th scope="col" class="num">Filled</th>` : ''}</tr></thead>
<tbody>${e.columns.map((c) => html`<tr><th scope="row"><code>${c.name}</code></th><td><code>${c.type}</code></td>${missing ? html`<td class="num">${count(missing[c.name] ?? 0)}</td><td class="num">${count(filled?.[c.name] ?? 0)}</td>` : ''}</tr>`)}</tbody>
</table></div>
</section>`
}

/** The key ranges of a partitioned run (`etl run --partitions N`), with each one's rows, attempts and time. */
function partitionsTable(s: RunSummary): SafeHtml {
  const p = s.partitions
  if (!p || !Array.isArray(p.ranges)) return html``
  return html`<div class="scroll"><table class="partitions">
<caption>${count(p.ranges.length)} partitions on <code>${str(p.key) ?? '?'}</code>, run by workers${num(p.durationMs) === undefined ? '' : html` in ${duration(p.durationMs)}`}</caption>
<thead><tr><th scope="col" class="num">#</th><th scope="col">Key range</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Time</th></tr></thead>
<tbody>${p.ranges.map((r) => html`<tr><th scope="row" class="num">${count(num(r.index) === undefined ? 0 : r.index + 1)}</th><td><code>${str(r.range) ?? ''}</code></td><td class="num">${count(r.rows)}</td><td class="num${r.attempts > 1 ? ' bad' : ''}">${count(r.attempts)}</td><td class="num">${duration(r.durationMs)}</td></tr>`)}</tbody>
</table></div>`
}

/** Rows in and out, ids, run time, added columns. */
export function transformSection(s: RunSummary): SafeHtml {
  const x = s.transform
  if (!x) return html``
  const before = new Set((s.extract?.columns ?? []).map((c) => c.name))
  const columns: readonly unknown[] = Array.isArray(x.columns) ? x.columns : []
  const added = columns.filter((c): c is Column => isObject(c) && typeof c['name'] === 'string' && !before.has(c['name']))
  const rowsIn = num((x as unknown as Record<string, unknown>)['rowsIn'])
  return html`<section aria-labelledby="transform-h">
<h2 id="transform-h">Transform</h2>
<p>${rowsIn === undefined ? '' : html`${count(rowsIn)} rows in, `}${count(x.rows)} rows out, ${count(x.dropped)} dropped${num(x.durationMs) === undefined ? '' : html`, in ${duration(x.durationMs)}`}.</p>
<ul class="small">
<li>Ids: <strong>${str(x.id) ?? '–'}</strong>; datetime: <strong>${str(x.datetime) ?? '–'}</strong>${typeof x.runTime === 'string' ? html` (run time <code>${x.runTime}</code>)` : ''}</li>
${added.length ? html`<li>Columns added: ${added.map((c, i) => html`${i ? ', ' : ''}<code>${c.name}</code> (${c.type})`)}</li>` : ''}
${fileLine('Stage file', x.file)}
</ul>
</section>`
}

/** A figure of the load report: a count, or "unknown" where the store cannot tell (null or absent). */
function figure(v: unknown): SafeHtml {
  return typeof v === 'number' ? html`${count(v)}` : html`<span class="muted">unknown</span>`
}

/** What the store holds after the commit (LoadReport): the write disposition and the figures. */
function reportTable(report: unknown): SafeHtml {
  const r = isObject(report) ? report : {}
  return html`<div class="scroll"><table class="report">
<caption>The feature group after the commit (<code>--write ${str(r['write']) ?? 'merge'}</code>)</caption>
<thead><tr><th scope="col" class="num">Inserted</th><th scope="col" class="num">Updated</th><th scope="col" class="num">Unchanged</th><th scope="col" class="num">Deleted</th><th scope="col" class="num">Rows before</th><th scope="col" class="num">Rows after</th></tr></thead>
<tbody><tr><td class="num">${figure(r['inserted'])}</td><td class="num">${figure(r['updated'])}</td><td class="num">${figure(r['unchanged'])}</td><td class="num">${figure(r['deleted'])}</td><td class="num">${figure(r['rowsBefore'])}</td><td class="num">${figure(r['rowsAfter'])}</td></tr></tbody>
</table></div>`
}

/** What went wrong after the commit (the run still Completed). */
function warningsList(s: RunSummary): SafeHtml {
  const w = Array.isArray(s.warnings) ? s.warnings.filter((x): x is string => typeof x === 'string') : []
  if (!w.length) return html``
  return html`<div class="warnings"><p><strong>Warnings after the commit</strong> (the load is in the store; the run completed):</p><ul>${w.map((m) => html`<li>${m}</li>`)}</ul></div>`
}

/** Which key the stable ids came from (--id derived). */
function identityLine(s: RunSummary): SafeHtml {
  const i = isObject(s.identity) ? s.identity : undefined
  if (!i) return html``
  return html`<p class="small">Ids (<code>user_id</code>) derived from ${str(i['description']) ?? 'the source'}: a re-run merges onto the same rows.</p>`
}

/** An incremental run: the window read, the watermark, and what its aggregates describe. */
function incrementalLine(s: RunSummary): SafeHtml {
  const w = isObject(s.incremental) ? s.incremental : undefined
  if (!w) return html``
  const v = (x: unknown) => (typeof x === 'string' ? html`<code>${x}</code>` : html`<span class="muted">none</span>`)
  return html`<p class="small">Incremental on <code>${str(w['column']) ?? '?'}</code>: rows from ${v(w['lower'])} to ${v(w['upper'])}${typeof w['until'] === 'string' ? html` (below ${v(w['until'])})` : ''}; watermark ${v(w['from'])} → ${v(w['next'])}.
Aggregate expectations (row counts, uniqueness, distinct sets, means, quantiles) describe this batch, not the whole table.</p>`
}

/** Flows (lib/pipelines) that end with a load. */
const LOADING_FLOWS: ReadonlySet<string> = new Set(['etl-run', 'loading'])

/** Where the rows went: Hopsworks (feature group, version, job) or the local folder; or why nothing was loaded. */
export function loadSection(record: RunRecord, s: RunSummary): SafeHtml {
  const l = s.load
  let body: SafeHtml
  if (l) {
    const fg = l.featureGroup
    const job = isObject(l.job) ? l.job : undefined
    const jobOk = job?.finalStatus === 'SUCCEEDED'
    body = html`<p>${count(l.rows)} rows loaded ${l.sink === 'hopsworks' ? 'into Hopsworks' : 'into the local feature store'}${num(l.durationMs) === undefined ? '' : html` in ${duration(l.durationMs)}`}.</p>
<dl class="overview">
<div><dt>Sink</dt><dd>${l.sink === 'hopsworks' ? 'Hopsworks' : 'local'}</dd></div>
<div><dt>Feature group</dt><dd><strong>${str(fg.name) ?? '–'}</strong></dd></div>
<div><dt>Version</dt><dd>${num(fg.version) ?? '–'}</dd></div>
<div><dt>Rows</dt><dd>${count(l.rows)}</dd></div>
<div><dt>${l.sink === 'hopsworks' ? 'Ingestion path' : 'Folder'}</dt><dd><code>${str(l.location) ?? '–'}</code></dd></div>
${job ? html`<div><dt>Ingestion job</dt><dd><code>${valueText(job.name)}</code> (execution ${valueText(job.executionId)})</dd></div>
<div><dt>Job status</dt><dd><span class="badge ${jobOk ? 'passed' : 'failed'}"><span aria-hidden="true">${jobOk ? '✔ ' : '✖ '}</span>${valueText(job.finalStatus)}</span> <span class="muted">${valueText(job.state)}</span></dd></div>` : ''}
${isObject(l.featureView) ? html`<div><dt>Feature view</dt><dd>${valueText(l.featureView.name)} version ${valueText(l.featureView.version)}</dd></div>` : ''}
</dl>
${reportTable(l.report)}
${identityLine(s)}
${incrementalLine(s)}
${warningsList(s)}`
  } else if (s.gate && !s.gate.committed) {
    body = html`<p><strong>Nothing was loaded:</strong> the quality gate stopped the run (policy <code>${s.gate.policy}</code>), so the feature store is as it was.</p>`
  } else if (LOADING_FLOWS.has(record.flow) && record.state !== 'Completed') {
    body = html`<p><strong>Nothing was loaded:</strong> the run ended (${record.state}) before the load.</p>`
  } else {
    return html``
  }
  return html`<section aria-labelledby="load-h">
<h2 id="load-h">Load</h2>
${body}
</section>`
}
