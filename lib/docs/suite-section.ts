/**
 * One validation result (the data's suite, or the meta-validation's) as a
 * page section: the verdict in words, links to the failed expectations, and a
 * table with every expectation in suite order: outcome (word and symbol, not
 * colour alone), label and type, kwargs, counts and percentages, observed
 * value, the sample of unexpected values (with counts and where they were
 * found, when the result has them) and any exception.
 */
import type { ExpectationResult } from '../expectations/types.ts'
import type { ValidationStageSummary } from '../pipelines/summary.ts'
import { chips, count, duration, percent, timestamp, valueHtml, valueText } from './format.ts'
import { html, type SafeHtml } from './html.ts'
import { isObject, num, str } from './read.ts'

export interface SuiteSectionOptions {
  /** Prefix of element ids (`validation`, `meta`): row ids are `<prefix>-<n>`. */
  readonly prefix: string
  /** The section heading (h2). */
  readonly title: string
  /** What one expectation is called: `expectation` or `check`. */
  readonly noun: string
}

/** The label shown for an expectation: meta.label, else the config's meta.label, else the column(s), else the type. */
export function expectationLabel(r: ExpectationResult): string {
  const kw = r.expectation_config.kwargs
  return str(r.meta['label']) ?? str(r.expectation_config.meta?.['label']) ?? str(kw['column'])
    ?? (Array.isArray(kw['column_list']) ? kw['column_list'].map(valueText).join(', ') : undefined)
    ?? (typeof kw['column_A'] === 'string' ? `${kw['column_A']}, ${String(kw['column_B'])}` : undefined)
    ?? r.expectation_config.expectation_type
}

function outcome(r: ExpectationResult): SafeHtml {
  return r.success
    ? html`<span class="badge passed"><span aria-hidden="true">✔ </span>Passed</span>`
    : html`<span class="badge failed"><span aria-hidden="true">✖ </span>Failed</span>`
}

/** An expectation type with break opportunities after its underscores. */
function typeHtml(type: string): SafeHtml {
  return html`${type.split('_').map((p, i) => html`${i ? html`_<wbr>` : ''}${p}`)}`
}

/** A kwarg value; `{"$PARAMETER": name}` as the parameter's name and the value it had in this run. */
function kwargHtml(value: unknown, params: Readonly<Record<string, unknown>>): SafeHtml {
  if (isObject(value) && Object.keys(value).length === 1 && typeof value['$PARAMETER'] === 'string') {
    const name = value['$PARAMETER']
    return html`<span class="param">parameter <code>${name}</code>${name in params ? html` = ${valueHtml(params[name])}` : ''}</span>`
  }
  return valueHtml(value)
}

function kwargsHtml(kwargs: Readonly<Record<string, unknown>>, params: Readonly<Record<string, unknown>>): SafeHtml {
  const entries = Object.entries(kwargs)
  if (entries.length === 0) return html`<span class="muted">none</span>`
  return html`<dl class="kwargs">${entries.map(([k, v]) => html`<div><dt>${k}</dt><dd>${kwargHtml(v, params)}</dd></div>`)}</dl>`
}

function countsHtml(d: ExpectationResult['result']): SafeHtml {
  const lines: SafeHtml[] = []
  const n = num(d.element_count)
  const unexpected = num(d.unexpected_count)
  if (unexpected !== undefined) {
    const of = n === undefined ? '' : ` of ${count(n)}`
    lines.push(html`<li class="${unexpected > 0 ? 'bad' : ''}"><strong>${count(unexpected)}</strong>${of} unexpected (${percent(d.unexpected_percent)})</li>`)
    const nonMissing = num(d.unexpected_percent_nonmissing)
    if (nonMissing !== undefined && nonMissing !== num(d.unexpected_percent)) lines.push(html`<li>${percent(nonMissing)} of non-missing values</li>`)
  } else if (n !== undefined) {
    lines.push(html`<li>${count(n)} values</li>`)
  }
  const missing = num(d.missing_count)
  if (missing !== undefined) lines.push(html`<li>${count(missing)} missing (${percent(d.missing_percent)})</li>`)
  return lines.length ? html`<ul class="counts">${lines}</ul>` : html`<span class="muted">–</span>`
}

/** Where the unexpected values were: the index columns of each entry, or the entry itself. */
function indexText(entry: unknown, columns: readonly string[] | undefined): string {
  if (isObject(entry) && columns && columns.length) return columns.map((c) => valueText(entry[c])).join(', ')
  return valueText(entry)
}

function sampleHtml(r: ExpectationResult): SafeHtml {
  const d = r.result
  const parts: SafeHtml[] = []
  const pc = Array.isArray(d.partial_unexpected_counts) ? d.partial_unexpected_counts.filter(isObject) : []
  if (pc.length) parts.push(chips(pc.map((c) => c['value']), pc.map((c) => num(c['count']) ?? 0)))
  else if (Array.isArray(d.partial_unexpected_list)) parts.push(d.partial_unexpected_list.length || num(d.unexpected_count) !== undefined ? chips(d.partial_unexpected_list) : html``)
  const where = Array.isArray(d.partial_unexpected_index_list) ? d.partial_unexpected_index_list : []
  if (where.length) {
    const columns = Array.isArray(d.unexpected_index_column_names) ? d.unexpected_index_column_names : undefined
    parts.push(html`<p class="where">at ${columns?.length ? columns.join(', ') : 'rows'}: ${where.slice(0, 50).map((e) => indexText(e, columns)).join('; ')}</p>`)
  }
  return parts.length ? html`${parts}` : html`<span class="muted">–</span>`
}

function observedHtml(r: ExpectationResult): SafeHtml {
  const info = r.exception_info
  const exception = info.raised_exception
    ? html`<p class="exception"><strong>Raised an exception:</strong> ${info.exception_message ?? 'no message'}</p>`
    : html``
  const observed = 'observed_value' in r.result ? valueHtml(r.result.observed_value) : info.raised_exception ? html`` : html`<span class="muted">–</span>`
  const details = isObject(r.result.details) && Object.keys(r.result.details).length
    ? html`<details><summary>details</summary>${valueHtml(r.result.details)}</details>` : html``
  return html`${observed}${exception}${details}`
}

function row(r: ExpectationResult, i: number, prefix: string, params: Readonly<Record<string, unknown>>): SafeHtml {
  const state = r.success ? 'passed' : 'failed'
  const table = str(r.meta['table'])
  return html`<tr id="${prefix}-${i + 1}" class="${state}" data-outcome="${state}" data-id="${str(r.meta['expectation_id']) ?? ''}">
<td class="num">${i + 1}</td>
<td>${outcome(r)}</td>
<th scope="row"><span class="label">${expectationLabel(r)}</span><code class="type">${typeHtml(r.expectation_config.expectation_type)}</code>${table ? html`<span class="muted"> on ${table}</span>` : ''}</th>
<td>${kwargsHtml(r.expectation_config.kwargs, params)}</td>
<td>${countsHtml(r.result)}</td>
<td>${observedHtml(r)}</td>
<td>${r.success && !num(r.result.unexpected_count) ? html`<span class="muted">–</span>` : sampleHtml(r)}</td>
</tr>`
}

/** The section for one validation stage summary. */
export function suiteSection(v: ValidationStageSummary, { prefix, title, noun }: SuiteSectionOptions): SafeHtml {
  const result = v.result
  const s = result.statistics
  const results = result.results
  const failed = results.map((r, i) => ({ r, i })).filter(({ r }) => !r.success)
  const evaluated = num(s.evaluated_expectations) ?? results.length
  const verdict = v.success
    ? html`<p class="verdict passed"><strong><span aria-hidden="true">✔ </span>Passed</strong>: all ${count(evaluated)} ${noun}s succeeded`
    : html`<p class="verdict failed"><strong><span aria-hidden="true">✖ </span>Failed</strong>: ${count(num(s.unsuccessful_expectations) ?? failed.length)} of ${count(evaluated)} ${noun}s failed (${percent(s.success_percent)} successful)`
  // The meta-validation's `rows` counts its checks; the rows it read are the validation results (meta.row_count).
  const rows = prefix === 'meta' ? num(result.meta.row_count) : num(v.rows) ?? num(result.meta.row_count)
  const meta = result.meta
  const suiteName = meta.expectation_suite_name
  return html`<section aria-labelledby="${prefix}-h">
<h2 id="${prefix}-h">${title}${suiteName ? html` <span class="suite">suite “${suiteName}”</span>` : ''}</h2>
${verdict}${rows === undefined ? '' : html`, over ${count(rows)} ${prefix === 'meta' ? 'validation results' : 'rows'}`}.</p>
${failed.length ? html`<p>Failed ${noun}s: ${failed.map(({ r, i }, k) => html`${k ? ', ' : ''}<a href="#${prefix}-${i + 1}">${expectationLabel(r)}</a>`)}</p>` : ''}
<p class="muted small">Validated ${timestamp(meta.validation_time)}${num(v.durationMs) === undefined ? '' : html` in ${duration(v.durationMs)}`}${meta.great_expectations_version ? html` · engine ${meta.great_expectations_version}` : ''}${num(v.quarantinedRows) ? html` · ${count(v.quarantinedRows)} rows quarantined` : ''}</p>
<div class="scroll">
<table class="expectations">
<caption>Every ${noun} of ${suiteName ? html`suite “${suiteName}”` : 'the suite'}, in suite order (${count(results.length)})</caption>
<thead><tr><th scope="col">#</th><th scope="col">Outcome</th><th scope="col">${noun === 'check' ? 'Check' : 'Expectation'}</th><th scope="col">Arguments</th><th scope="col">Counts</th><th scope="col">Observed value</th><th scope="col">Unexpected values (sample)</th></tr></thead>
<tbody>
${results.map((r, i) => row(r, i, prefix, result.evaluation_parameters))}
</tbody>
</table>
</div>
${paramsHtml(result.evaluation_parameters, prefix)}
</section>`
}

function paramsHtml(params: Readonly<Record<string, unknown>>, prefix: string): SafeHtml {
  const entries = Object.entries(params)
  if (entries.length === 0) return html``
  return html`<details class="params"><summary>Evaluation parameters (${count(entries.length)})</summary>
<table><caption class="sr-only">Evaluation parameters of the ${prefix === 'meta' ? 'meta-validation' : 'validation'}</caption>
<thead><tr><th scope="col">Parameter</th><th scope="col">Value</th></tr></thead>
<tbody>${entries.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${valueHtml(v)}</td></tr>`)}</tbody></table></details>`
}
