/**
 * A check against history: ours, not Great Expectations'. An aggregate
 * expectation (one that observes a number: a mean, a row count, a max ...)
 * may carry `meta.history`:
 *
 *     "meta": { "history": { "runs": 20, "sigmas": 3 } }
 *
 * Besides its own bounds, it then fails when the observed value leaves the
 * band mean ± sigmas x stdev of the values it observed in the last `runs`
 * runs in which it passed (kept in the data folder: lib/validate/history.ts).
 * Until `min_runs` (default 5) such runs exist, the band is not applied and the
 * result says so. A band of zero width (the same value every run) accepts only
 * that value. Pure: the earlier values come in through CompileOptions.history.
 */
import { EtlError } from '../errors.ts'
import type { ExpectationConfig, ExpectationResultDetail } from './types.ts'

export interface HistoryOptions {
  readonly runs: number
  readonly sigmas: number
  readonly minRuns: number
}

/** Earlier observed values of an expectation (by its id in the suite), oldest first. */
export type HistoryLookup = (expectationId: string) => readonly number[]

/** What `result.details.history` holds after the check. */
export interface HistoryCheck {
  readonly runs: number
  readonly applied: boolean
  readonly mean?: number
  readonly stdev?: number
  readonly band?: readonly [number, number]
  readonly within?: boolean
  readonly note?: string
}

/** `meta.history` of an expectation, checked; undefined when it has none. Throws ETL_SUITE when it is malformed. */
export function historyOptionsOf(config: ExpectationConfig, where: string): HistoryOptions | undefined {
  const h = (config.meta as Record<string, unknown> | undefined)?.['history']
  if (h === undefined || h === null) return undefined
  const bad = (what: string) => new EtlError('ETL_SUITE', `${where}: meta.history ${what}`)
  if (typeof h !== 'object' || Array.isArray(h)) throw bad('must be an object such as { "runs": 20, "sigmas": 3 }')
  const o = h as Record<string, unknown>
  for (const k of Object.keys(o)) if (!['runs', 'sigmas', 'min_runs'].includes(k)) throw bad(`has an unknown key "${k}" (runs, sigmas, min_runs)`)
  const runs = o['runs'] ?? 20
  const sigmas = o['sigmas'] ?? 3
  const minRuns = o['min_runs'] ?? 5
  if (typeof runs !== 'number' || !Number.isInteger(runs) || runs < 2 || runs > 100) throw bad(`runs must be an integer from 2 to 100, got ${JSON.stringify(runs)}`)
  if (typeof sigmas !== 'number' || !Number.isFinite(sigmas) || sigmas <= 0) throw bad(`sigmas must be a number > 0, got ${JSON.stringify(sigmas)}`)
  if (typeof minRuns !== 'number' || !Number.isInteger(minRuns) || minRuns < 2 || minRuns > runs) throw bad(`min_runs must be an integer from 2 to runs, got ${JSON.stringify(minRuns)}`)
  return { runs, sigmas, minRuns }
}

/** Applies the band to an observed value; resolves with the new success and what the check saw. */
export function checkHistory(options: HistoryOptions, observed: unknown, earlier: readonly number[]): { within: boolean; details: HistoryCheck } {
  const values = earlier.filter((x) => Number.isFinite(x)).slice(-options.runs)
  if (typeof observed !== 'number' || !Number.isFinite(observed))
    return { within: true, details: { runs: values.length, applied: false, note: 'no numeric observed value to compare' } }
  if (values.length < options.minRuns)
    return { within: true, details: { runs: values.length, applied: false, note: `${values.length} earlier run(s); the band applies from ${options.minRuns}` } }
  const mean = values.reduce((s, x) => s + x, 0) / values.length
  const stdev = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1))
  const band: [number, number] = [mean - options.sigmas * stdev, mean + options.sigmas * stdev]
  const within = observed >= band[0] && observed <= band[1]
  return { within, details: { runs: values.length, applied: true, mean, stdev, band, within } }
}

/** The result detail with the history check added (GE's `details` field). */
export function withHistory(result: ExpectationResultDetail, details: HistoryCheck): ExpectationResultDetail {
  const r = result as ExpectationResultDetail & { details?: Record<string, unknown> }
  return { ...r, details: { ...(r.details ?? {}), history: details } } as ExpectationResultDetail
}
