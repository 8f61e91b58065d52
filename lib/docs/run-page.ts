/**
 * One run as a static page: header and state, overview, what went wrong (in
 * plain words, then the recorded message), rows per stage as a flow picture,
 * timings, the validation and the meta-validation (every expectation), the
 * extract, transform and load. Any part the record lacks (a run that failed
 * early, a single-stage pipeline) is left out.
 */
import type { History } from '../validate/history.ts'
import { driftSection } from './drift.ts'
import type { RunRecord } from '../flow/run-record.ts'
import { count, duration, percent, timestamp, valueText } from './format.ts'
import { html, type SafeHtml } from './html.ts'
import { page } from './layout.ts'
import { explainError, explainState, stateStyle } from './plain-words.ts'
import { isObject, num, readSummary, str } from './read.ts'
import { extractSection, flowPicture, loadSection, transformSection } from './stages.ts'
import { suiteSection } from './suite-section.ts'
import { timingsSection } from './timings.ts'
import type { RunSummary } from '../pipelines/summary.ts'

/**
 * Whether the run completed although its data failed: the quality gate with
 * `--on-invalid warn`, or the validation of a single-stage pipeline.
 */
export function warned(record: RunRecord, s: RunSummary): boolean {
  if (record.state !== 'Completed') return false
  return s.gate ? !s.gate.passed : s.validation?.success === false || s.meta?.success === false
}

function banner(record: RunRecord, s: RunSummary): SafeHtml {
  const warn = warned(record, s)
  const { cls, symbol } = warn ? { cls: 'warn', symbol: '▲' } : stateStyle(record.state)
  const text = !warn ? explainState(record.state)
    : s.gate?.committed ? 'The run finished, but the data failed its quality gate and was loaded anyway (--on-invalid warn).'
    : s.validation?.success === false ? 'The run finished, but the data failed its validation (see below).'
    : 'The run finished, but the meta-validation failed (see below).'
  return html`<div class="banner ${cls}" role="status"><span class="state" data-state="${record.state}"><span aria-hidden="true">${symbol} </span>${record.state}${warn ? ' with warnings' : ''}</span> <span>${text}</span></div>`
}

function gateText(s: RunSummary): SafeHtml {
  const g = s.gate
  if (!g) return html`<span class="muted">not reached</span>`
  const outcome = g.passed ? html`<span class="badge passed"><span aria-hidden="true">✔ </span>Passed</span>` : html`<span class="badge failed"><span aria-hidden="true">✖ </span>Failed</span>`
  return html`${outcome} <span class="muted">policy ${g.policy}; ${g.committed ? 'committed' : 'nothing committed'}</span>`
}

function validationText(s: RunSummary): SafeHtml {
  const v = s.validation
  if (!v) return html`<span class="muted">not run</span>`
  const st = v.statistics
  return v.success
    ? html`<span class="badge passed"><span aria-hidden="true">✔ </span>Passed</span> <span class="muted">${count(st.successful_expectations)} of ${count(st.evaluated_expectations)}</span>`
    : html`<span class="badge failed"><span aria-hidden="true">✖ </span>Failed</span> <span class="muted">${count(st.unsuccessful_expectations)} of ${count(st.evaluated_expectations)} failed (${percent(st.success_percent)} successful)</span>`
}

function overview(record: RunRecord, s: RunSummary): SafeHtml {
  const params = isObject(record.parameters) ? Object.entries(record.parameters) : []
  const item = (label: string, value: SafeHtml | string) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`
  return html`<dl class="overview">
${item('Flow', html`<code>${record.flow}</code>`)}
${item('Started', timestamp(record.start))}
${item('Ended', record.end ? timestamp(record.end) : html`<span class="muted">not recorded</span>`)}
${item('Duration', duration(record.durationMs))}
${s.extract ? item('Source', str(s.extract.source) ?? '–') : ''}
${item('Validation', validationText(s))}
${s.meta ? item('Meta-validation', html`${s.meta.success ? html`<span class="badge passed"><span aria-hidden="true">✔ </span>Passed</span>` : html`<span class="badge failed"><span aria-hidden="true">✖ </span>Failed</span>`} <span class="muted">${count(s.meta.statistics.successful_expectations)} of ${count(s.meta.statistics.evaluated_expectations)} checks</span>`) : ''}
${item('Quality gate', gateText(s))}
${params.length ? item('Parameters', html`${params.map(([k, v], i) => html`${i ? ', ' : ''}${k}=<code>${valueText(v)}</code>`)}`) : ''}
${record.parentRunId ? item('Started from run', html`<a href="${encodeURIComponent(record.parentRunId)}.html">${record.parentRunId}</a>`) : ''}
${item('Host', html`${record.host} <span class="muted">pid ${num(record.pid) ?? '–'}</span>`)}
</dl>`
}

function errorSection(record: RunRecord, s: RunSummary): SafeHtml {
  const e = record.error
  const failedTask = (Array.isArray(record.tasks) ? record.tasks : []).find((t) => t.state === 'Failed')
  if (!e && record.state !== 'Crashed' && record.state !== 'Cancelled') return html``
  return html`<section aria-labelledby="error-h">
<h2 id="error-h">What went wrong</h2>
<div class="error-box">
${e ? html`<p><strong>${explainError(e.code)}</strong></p>
${failedTask ? html`<p>In task <code>${failedTask.name}</code>${failedTask.attempts > 1 ? `, after ${failedTask.attempts} attempts` : ''}.</p>` : ''}
${s.gate && !s.gate.passed && s.gate.failed.length ? html`<p>Failed: ${s.gate.failed.map((f, i) => html`${i ? ', ' : ''}<code>${f}</code>`)}</p>` : ''}
<p class="code">Error <code>${e.code}</code>:</p>
<pre class="message">${e.message}</pre>` : html`<p><strong>${explainState(record.state)}</strong></p>`}
</div>
</section>`
}

/**
 * The HTML page of one run record: a complete, self-contained document (inline
 * CSS, no script, a CSP that forbids scripts and fetches). Every value taken
 * from the record is HTML-escaped. Pure: the same record gives the same page.
 * Links: `../index.html` (the index) and `<parentRunId>.html` beside it.
 */
/** The run's page; `history` (the suite's observed values over runs) adds the drift charts. */
export function renderRunPage(record: RunRecord, history?: History): string {
  const s = readSummary(record.summary)
  const body = html`<header>
<p class="crumbs"><a href="../index.html">All runs</a></p>
<h1>Run <code>${record.id}</code></h1>
<p class="sub">${record.flow} · ${timestamp(record.start)}</p>
${banner(record, s)}
${overview(record, s)}
</header>
${errorSection(record, s)}
${s.extract || s.validation || s.transform || s.load || s.counts ? flowPicture(s) : ''}
${timingsSection(record)}
${s.validation ? suiteSection(s.validation, { prefix: 'validation', title: 'Validation', noun: 'expectation' }) : ''}
${s.validation ? driftSection(record.id, s.validation.result.results, history) : ''}
${s.meta ? suiteSection(s.meta, { prefix: 'meta', title: 'Meta-validation', noun: 'check' }) : ''}
${extractSection(s)}
${transformSection(s)}
${loadSection(record, s)}`
  const title = `Run ${record.id} · ${record.state}${warned(record, s) ? ' with warnings' : ''} · ${record.flow} · prostate-etl`
  return page(title, body)
}
