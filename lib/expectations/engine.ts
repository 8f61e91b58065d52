/**
 * The validation engine: a suite compiled against a column list, its state,
 * and the suite result in Great Expectations' shape. Pure: no streams, no I/O.
 *
 *     const c = compile(suite, columns, { stats })
 *     const s = c.init()
 *     c.update(s, batch.rows)            // column-wise, batch after batch
 *     c.finish(c.merge(s1, s2))          // partitions validated apart, merged in source order
 *
 * - State is plain data; `toJSON`/`fromJSON` give a JSON-safe form (Maps and
 *   NaN tagged, see state-json.ts) for sending it to another process.
 * - finish(merge(a, b)) equals finish(whole) for every expectation type.
 * - A kwarg value that cannot work (min > max, a missing column, a regex on a
 *   number column...) makes that expectation an error result
 *   (`success: false`, `exception_info.raised_exception: true`) and the others
 *   still run; with `catch_exceptions: false` (in the kwargs, or as the
 *   compile option) compile() throws ETL_EXPECTATION instead.
 * - Memory: row-level checks are constant; uniqueness, distinct values,
 *   median and quantiles grow with the number of distinct values; COMPLETE
 *   result format keeps every unexpected value.
 */
import { EtlError } from '../errors.ts'
import { checkHistory, historyOptionsOf, withHistory, type HistoryLookup } from './history.ts'
import type { Column, Row } from '../types.ts'
import { CATALOG, type Family } from './catalog.ts'
import type { Check, FailureSink } from './check.ts'
import { DEFAULT_RESULT_FORMAT, expectationError, resultFormatOf } from './kwargs.ts'
import { resolveParameters } from './params.ts'
import { compileRowCondition, type RowTest } from './row-condition.ts'
import { decodeState, encodeState } from './state-json.ts'
import type { ColumnStats, ExpectationConfig, ExpectationResult, ResultFormatInput, Suite, SuiteResult, SuiteStatistics } from './types.ts'

/** Options of compile() (and of the validate() stage, which passes them on). */
export interface CompileOptions {
  /** Whole-column statistics from a prepass, by column name (z-scores need them; see prepass.ts). */
  readonly stats?: Readonly<Record<string, ColumnStats>>
  /** Values for `{"$PARAMETER": "name"}` kwargs. */
  readonly evaluationParameters?: Readonly<Record<string, unknown>>
  /** Clock for `now()` in evaluation parameters. Default: the real one. */
  readonly now?: () => Date
  /** result_format of expectations that give none. Default BASIC. */
  readonly resultFormat?: ResultFormatInput
  /** Default of catch_exceptions for expectations that give none. Default true. */
  readonly catchExceptions?: boolean
  /** Earlier observed values, for expectations with `meta.history` (history.ts). Without it the band is not applied. */
  readonly history?: HistoryLookup
}

/** One expectation of a compiled suite. */
export interface CompiledExpectation {
  readonly index: number
  readonly id: string
  readonly label: string
  readonly config: ExpectationConfig
  readonly family: Family
  /** True when failing rows are reported as they pass (stage: 'invalid' event, quarantine). */
  readonly rowLevel: boolean
  /** Null when the expectation could not be compiled (then `error` says why). */
  readonly check: Check<unknown> | null
  readonly error: EtlError | null
}

/** The state of a whole suite over one partition. */
export interface SuiteState {
  rows: number
  readonly states: unknown[]
}

/** Options of CompiledSuite.finish(). */
export interface FinishOptions {
  /** Recorded in `meta.validation_time` (ISO text). */
  readonly validationTime?: string
  /** Extra `meta` of the suite result (run id, source ...). */
  readonly meta?: Readonly<Record<string, unknown>>
}

/** A suite compiled for one column list: state in, GE suite result out. */
export interface CompiledSuite {
  readonly suite: Suite
  readonly columns: readonly Column[]
  readonly expectations: readonly CompiledExpectation[]
  /** Indices of the row-level expectations. */
  readonly rowLevel: readonly number[]
  readonly evaluationParameters: Readonly<Record<string, unknown>>
  init(): SuiteState
  /** Folds rows into the state. Row-level failures go to `sink` (row index in `rows`, expectation index). */
  update(state: SuiteState, rows: readonly Row[], sink?: FailureSink): void
  /** a then b, in source order. Pure. */
  merge(a: SuiteState, b: SuiteState): SuiteState
  finish(state: SuiteState, options?: FinishOptions): SuiteResult
  toJSON(state: SuiteState): unknown
  fromJSON(json: unknown): SuiteState
}

const OK_INFO = Object.freeze({ raised_exception: false, exception_traceback: null, exception_message: null })

/** Our additions to GE's per-result `meta`: the expectation's id and label in the suite. */
const metaOf = (e: CompiledExpectation): Record<string, unknown> => ({ expectation_id: e.id, label: e.label })

function errorResult(e: CompiledExpectation, err: unknown): ExpectationResult {
  const x = err instanceof Error ? err : new Error(String(err))
  return {
    success: false,
    expectation_config: e.config,
    result: {},
    exception_info: { raised_exception: true, exception_traceback: `${x.name}: ${x.message}`, exception_message: x.message },
    meta: metaOf(e),
  }
}

function compileOne(suite: Suite, i: number, columns: readonly Column[], options: CompileOptions): CompiledExpectation {
  const { id, label, config, index } = suite.expectations[i]!
  const entry = CATALOG[config.expectation_type]!
  const catchExceptions = config.kwargs['catch_exceptions'] ?? options.catchExceptions ?? true
  try {
    const kwargs = resolveParameters(config.kwargs, { parameters: options.evaluationParameters ?? {}, now: options.now ?? (() => new Date()) })
    const keep = compileRowCondition(kwargs['row_condition'], kwargs['condition_parser'], columns)
    if (keep && PREPASS_TYPES.includes(config.expectation_type))
      throw expectationError(`row_condition is not supported on ${config.expectation_type}: its mean and standard deviation come from the whole column; filter the rows in the source query instead`)
    const fallback = resultFormatOf(options.resultFormat, DEFAULT_RESULT_FORMAT)
    const format = resultFormatOf(kwargs['result_format'], fallback)
    const built = entry.build({ type: config.expectation_type, kwargs, columns, format, stats: options.stats ?? {} })
    const check = keep ? onlyMatching(built, keep) : built
    return { index, id, label, config, family: entry.family, rowLevel: check.rowLevel, check, error: null }
  } catch (err) {
    const e = err instanceof EtlError ? err : new EtlError('ETL_EXPECTATION', (err as Error).message, { cause: err })
    if (catchExceptions === false)
      throw new EtlError('ETL_EXPECTATION', `expectation #${index} (${config.expectation_type}): ${e.message}`, { cause: e, details: { index, id } })
    return { index, id, label, config, family: entry.family, rowLevel: false, check: null, error: e }
  }
}

/** The types whose statistics come from a prepass over the whole column (prepass.ts). */
const PREPASS_TYPES: readonly string[] = ['expect_column_value_z_scores_to_be_less_than']

interface MatchingState {
  /** Rows of this partition that matched the condition. */
  kept: number
  inner: unknown
}

/** `check` over the rows that match a row_condition only; failing rows are reported at their place in the batch. */
function onlyMatching(check: Check<unknown>, keep: RowTest): Check<MatchingState> {
  return {
    rowLevel: check.rowLevel,
    init: () => ({ kept: 0, inner: check.init() }),
    update(s, rows, _base, sink, self) {
      const kept: Row[] = []
      const at: number[] = []
      for (let i = 0; i < rows.length; i++) {
        if (keep(rows[i]!)) {
          kept.push(rows[i]!)
          at.push(i)
        }
      }
      const mapped: FailureSink | undefined = sink && { add: (i, e) => sink.add(at[i]!, e) }
      check.update(s.inner, kept, s.kept, mapped, self)
      s.kept += kept.length
    },
    merge: (a, b) => ({ kept: a.kept + b.kept, inner: check.merge(a.inner, b.inner) }),
    finish: (s) => check.finish(s.inner),
  }
}

/** Compiles a suite for a column list. Throws ETL_EXPECTATION only for expectations with catch_exceptions false. */
export function compile(suite: Suite, columns: readonly Column[], given: CompileOptions = {}): CompiledSuite {
  const options: CompileOptions = suite.parameters && Object.keys(suite.parameters).length
    ? { ...given, evaluationParameters: { ...suite.parameters, ...given.evaluationParameters } }
    : given
  const expectations = suite.expectations.map((_, i) => compileOne(suite, i, columns, options))
  const checks = expectations.map((e) => e.check)
  const n = checks.length
  return {
    suite,
    columns,
    expectations,
    rowLevel: expectations.filter((e) => e.rowLevel).map((e) => e.index),
    evaluationParameters: options.evaluationParameters ?? {},
    init: () => ({ rows: 0, states: checks.map((c) => (c ? c.init() : null)) }),
    update(state, rows, sink) {
      const base = state.rows
      for (let i = 0; i < n; i++) {
        const c = checks[i]
        if (c) c.update(state.states[i], rows, base, c.rowLevel ? sink : undefined, i)
      }
      state.rows = base + rows.length
    },
    merge: (a, b) => ({ rows: a.rows + b.rows, states: checks.map((c, i) => (c ? c.merge(a.states[i], b.states[i]) : null)) }),
    finish(state, opts = {}) {
      const results = expectations.map((e, i): ExpectationResult => {
        if (!e.check) return errorResult(e, e.error)
        try {
          const { success, result } = e.check.finish(state.states[i])
          const h = historyOptionsOf(e.config, `expectation #${e.index} (${e.config.expectation_type})`)
          if (h && options.history) {
            const { within, details } = checkHistory(h, result.observed_value, options.history(e.id))
            return { success: success && within, expectation_config: e.config, result: withHistory(result, details), exception_info: OK_INFO, meta: metaOf(e) }
          }
          return { success, expectation_config: e.config, result, exception_info: OK_INFO, meta: metaOf(e) }
        } catch (err) {
          return errorResult(e, err)
        }
      })
      const statistics = suiteStatistics(results)
      return {
        success: statistics.unsuccessful_expectations === 0,
        results,
        statistics,
        evaluation_parameters: options.evaluationParameters ?? {},
        meta: {
          expectation_suite_name: suite.name,
          great_expectations_version: '0.18 (prostate-etl engine)',
          ...(opts.validationTime ? { validation_time: opts.validationTime } : {}),
          row_count: state.rows,
          ...opts.meta,
        },
      }
    },
    toJSON: (state) => ({ rows: state.rows, states: state.states.map(encodeState) }),
    fromJSON(json) {
      const o = json as { rows?: unknown; states?: unknown }
      if (typeof o?.rows !== 'number' || !Array.isArray(o.states) || o.states.length !== n)
        throw new EtlError('ETL_QUEUE', `not the state of this suite (expected ${n} expectation states)`)
      return { rows: o.rows, states: o.states.map(decodeState) }
    },
  }
}

/** A suite result's `statistics`, in Great Expectations' shape. */
export function suiteStatistics(results: readonly ExpectationResult[]): SuiteStatistics {
  const good = results.filter((r) => r.success).length
  return {
    evaluated_expectations: results.length,
    successful_expectations: good,
    unsuccessful_expectations: results.length - good,
    success_percent: results.length ? (good / results.length) * 100 : null,
  }
}
