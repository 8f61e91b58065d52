/**
 * The quality gate's report, for a person: which expectations failed on the
 * data, which meta checks failed on the validation, and which meta checks
 * were skipped. Plain text, one finding per line.
 */
import type { ExpectationResult, SuiteResult } from '../expectations/types.ts'

const MAX = 160

function show(v: unknown): string {
  let text: string
  try {
    text = JSON.stringify(v) ?? String(v)
  } catch {
    text = String(v)
  }
  return text.length > MAX ? `${text.slice(0, MAX - 3)}...` : text
}

const pct = (v: number): string => `${Number(v.toFixed(2))}%`

/** A kwarg's value, with a plain `{"$PARAMETER": "name"}` looked up in the result's evaluation parameters. */
function kwarg(r: ExpectationResult, name: string, params: Readonly<Record<string, unknown>>): unknown {
  const v = r.expectation_config.kwargs[name]
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && '$PARAMETER' in v) {
    const expr = (v as { $PARAMETER: unknown }).$PARAMETER
    return typeof expr === 'string' && Object.hasOwn(params, expr.trim()) ? params[expr.trim()] : v
  }
  return v
}

/** The ids named in partial_unexpected_index_list (meta checks ask for `expectation_id` there). */
function unexpectedIds(r: ExpectationResult): string[] {
  const list = r.result.partial_unexpected_index_list ?? []
  const ids = list.map((e) => (typeof e === 'object' && e !== null ? (e as Record<string, unknown>)['expectation_id'] : undefined))
  return [...new Set(ids.filter((x): x is string => typeof x === 'string'))]
}

/** `; expected between 41 and 80` / `; expected in [0,1]` from the kwargs, when they say. */
function expected(r: ExpectationResult, params: Readonly<Record<string, unknown>>): string {
  const min = kwarg(r, 'min_value', params)
  const max = kwarg(r, 'max_value', params)
  if (min !== undefined || max !== undefined) return `; expected between ${show(min ?? null)} and ${show(max ?? null)}`
  const set = kwarg(r, 'value_set', params)
  return Array.isArray(set) ? `; expected in ${show(set)}` : ''
}

/** What went wrong with one failed result, in a few words. */
function why(r: ExpectationResult, params: Readonly<Record<string, unknown>>): string {
  if (r.exception_info.raised_exception) return `raised an exception: ${r.exception_info.exception_message ?? 'unknown error'}`
  const res = r.result
  if (typeof res.unexpected_count === 'number' && res.unexpected_count > 0) {
    const judged = (res.element_count ?? 0) - (res.missing_count ?? 0)
    let text = `${res.unexpected_count} of ${judged} unexpected`
    if (typeof res.unexpected_percent === 'number') text += ` (${pct(res.unexpected_percent)})`
    const ids = unexpectedIds(r)
    if (ids.length) return `${text}: ${ids.join(', ')}`
    if (res.partial_unexpected_list?.length) text += `, e.g. ${show(res.partial_unexpected_list.slice(0, 5))}`
    return text + expected(r, params)
  }
  if (res.observed_value !== undefined) {
    const set = kwarg(r, 'value_set', params)
    if (Array.isArray(set) && Array.isArray(res.observed_value)) {
      const seen = new Set(res.observed_value.map((x) => show(x)))
      const want = new Set(set.map((x) => show(x)))
      const missing = [...want].filter((x) => !seen.has(x))
      const extra = [...seen].filter((x) => !want.has(x))
      const parts = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unexpected ${extra.join(', ')}` : ''].filter(Boolean)
      if (parts.length) return `observed ${show(res.observed_value)}: ${parts.join('; ')}`
    }
    const value = kwarg(r, 'value', params)
    if (value !== undefined) return `observed ${show(res.observed_value)}, expected ${show(value)}`
    const min = kwarg(r, 'min_value', params)
    const max = kwarg(r, 'max_value', params)
    if (min !== undefined || max !== undefined) return `observed ${show(res.observed_value)}, expected between ${show(min ?? null)} and ${show(max ?? null)}`
    return `observed ${show(res.observed_value)}`
  }
  return 'failed'
}

function name(r: ExpectationResult): string {
  const id = r.meta['expectation_id']
  const label = r.meta['label']
  const head = typeof label === 'string' ? label : r.expectation_config.expectation_type
  return typeof id === 'string' && id !== label ? `${head} [${id}]` : head
}

function section(title: string, noun: string, result: SuiteResult): string[] {
  const all = result.results.length
  const failed = result.results.filter((r) => !r.success)
  const skipped = result.results.filter((r) => r.success && typeof r.meta['skipped'] === 'string')
  const lines = [failed.length ? `${title}: ${failed.length} of ${all} ${noun} failed` : `${title}: all ${all} ${noun} passed`]
  for (const r of failed) lines.push(`  - ${name(r)}: ${why(r, result.evaluation_parameters)}`)
  for (const r of skipped) lines.push(`  (skipped) ${name(r)}: ${String(r.meta['skipped'])}`)
  return lines
}

/**
 * The gate's report: a line per section (`validation of suite "prostate": 1 of
 * 6 expectations failed`, `meta-validation (suite "meta"): all 11 checks
 * passed`), each followed by a line per failed expectation (label, id, what
 * was observed and expected, or the exception) and per skipped meta check.
 * Without a meta result the second section says `meta-validation: not run`.
 * No trailing newline.
 */
export function gateReport(validation: SuiteResult, meta: SuiteResult | undefined): string {
  return [
    ...section(`validation of suite "${validation.meta.expectation_suite_name}"`, 'expectations', validation),
    ...(meta ? section(`meta-validation (suite "${meta.meta.expectation_suite_name}")`, 'checks', meta) : ['meta-validation: not run']),
  ].join('\n')
}
