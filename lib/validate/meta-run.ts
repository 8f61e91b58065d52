/**
 * Running a meta suite over the meta tables with the expectation engine.
 *
 *     meta suite ──split by meta.table──> results: compile(RESULTS cols) ─┐
 *                                         counts:  compile(COUNT cols)  ─┼─> one SuiteResult, suite order
 *                                         needs an unknown count: skipped┘
 *
 * A check that needs a stage count not known yet (a standalone
 * `etl meta-validate` runs before transform and load) is kept in the result,
 * not left out: `success: true`, `meta.skipped: "stage not run yet"` and
 * `meta.needs` (the missing counts), so the meta results CSV still has one row
 * per meta expectation and the report can say what was not checked.
 * Pure but for the default meta suite, read once from the package on first use.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { EtlError } from '../errors.ts'
import { compile, suiteStatistics } from '../expectations/engine.ts'
import { parseSuite } from '../expectations/suite.ts'
import type { ExpectationResult, Suite, SuiteExpectation, SuiteResult } from '../expectations/types.ts'
import type { StageCountsSummary } from '../pipelines/summary.ts'
import type { Batch } from '../types.ts'
import { countsTable, knownCounts, metaParameters, missingCounts, type MetaTables } from './meta-tables.ts'

/** The meta suite used when none is given: fixtures/suites/meta.json of this package. */
export const DEFAULT_META_SUITE_PATH = fileURLToPath(new URL('../../fixtures/suites/meta.json', import.meta.url))

/** `meta.skipped` of a check left out because a stage has not reported its count. */
export const SKIPPED = 'stage not run yet'

let defaultSuite: Suite | undefined

/** The default meta suite (read and checked on first use, then kept). Throws ETL_SUITE. */
export function defaultMetaSuite(): Suite {
  if (!defaultSuite) {
    let text: string
    try {
      text = readFileSync(DEFAULT_META_SUITE_PATH, 'utf8')
    } catch (err) {
      throw new EtlError('ETL_SUITE', `cannot read the default meta suite ${DEFAULT_META_SUITE_PATH}: ${(err as Error).message}`, { cause: err })
    }
    defaultSuite = parseSuite(JSON.parse(text) as unknown, DEFAULT_META_SUITE_PATH)
  }
  return defaultSuite
}

/** What both ways of meta-validating (in memory, from the data folder) take besides the results table. */
export interface MetaCommonOptions {
  /** The suite the validation ran (its expectation count and ids are what "every declared expectation" means). */
  readonly declared: Suite
  /** Stage counts known so far; an absent count skips the checks that need it. */
  readonly counts: StageCountsSummary
  /** The meta suite. Default: fixtures/suites/meta.json (defaultMetaSuite()). */
  readonly metaSuite?: Suite
  /** More evaluation parameters for the meta suite (they cannot replace the ones meta-validation provides). */
  readonly evaluationParameters?: Readonly<Record<string, unknown>>
  /** Clock for meta.validation_time and now() in parameters. Default: the real one. */
  readonly clock?: () => Date
  /** Extra `meta` of the result (run id ...). */
  readonly meta?: Readonly<Record<string, unknown>>
}

const TABLES = ['results', 'counts'] as const
type TableName = (typeof TABLES)[number]

const OK_INFO = Object.freeze({ raised_exception: false, exception_traceback: null, exception_message: null })

let version: string | undefined

/** The engine's `great_expectations_version` (what compile().finish() records). */
function engineVersion(): string {
  version ??= compile({ name: '', expectations: [], meta: {} }, []).finish({ rows: 0, states: [] }).meta.great_expectations_version
  return version
}

export const tableOf = (e: SuiteExpectation): unknown => e.config.meta?.['table'] ?? 'results'

function baseMeta(e: SuiteExpectation, table: unknown): Record<string, unknown> {
  return { expectation_id: e.id, label: e.label, table }
}

export function skippedResult(e: SuiteExpectation, needs: readonly string[]): ExpectationResult {
  return { success: true, expectation_config: e.config, result: {}, exception_info: OK_INFO, meta: { ...baseMeta(e, tableOf(e)), skipped: SKIPPED, needs } }
}

function badTableResult(e: SuiteExpectation, table: unknown): ExpectationResult {
  const message = `meta.table must be "results", "counts" or "load", got ${JSON.stringify(table)}`
  return {
    success: false,
    expectation_config: e.config,
    result: {},
    exception_info: { raised_exception: true, exception_traceback: `EtlError: ${message}`, exception_message: message },
    meta: baseMeta(e, table),
  }
}

/**
 * Runs the meta suite over the results table (however it was built) and the
 * counts table; one suite result, in the meta suite's order. Throws
 * ETL_SUITE (the default meta suite unreadable) and ETL_EXPECTATION (a meta
 * expectation with catch_exceptions false that cannot run).
 */
export function metaValidateTable(resultsBatch: Batch, options: MetaCommonOptions): SuiteResult {
  const { declared, counts, clock = () => new Date() } = options
  const metaSuite = options.metaSuite ?? defaultMetaSuite()
  const tables: MetaTables = { results: resultsBatch, counts: countsTable(counts) }
  const parameters = metaParameters(declared, counts, options.evaluationParameters)
  const out: (ExpectationResult | undefined)[] = new Array<ExpectationResult | undefined>(metaSuite.expectations.length)
  const runnable: Record<TableName, SuiteExpectation[]> = { results: [], counts: [] }
  metaSuite.expectations.forEach((e, i) => {
    const table = tableOf(e)
    // Post-load checks (meta.table "load") run after the commit, over the store's figures (meta-load.ts).
    if (table === 'load') return void (out[i] = skippedResult(e, ['load report']))
    if (table !== 'results' && table !== 'counts') return void (out[i] = badTableResult(e, table))
    const needs = missingCounts(table, e.config.kwargs, counts)
    if (needs.length) return void (out[i] = skippedResult(e, needs))
    runnable[table].push(e)
  })
  for (const name of TABLES) {
    const list = runnable[name]
    if (!list.length) continue
    const table = tables[name]
    // compile() looks expectations up by position in the suite it is given: a sub-suite of this table's ones.
    const sub: Suite = { ...metaSuite, expectations: list }
    const compiled = compile(sub, table.columns, { evaluationParameters: parameters, now: clock })
    const state = compiled.init()
    compiled.update(state, table.rows)
    const result = compiled.finish(state)
    result.results.forEach((r, k) => {
      const e = list[k]!
      out[metaSuite.expectations.indexOf(e)] = { ...r, meta: { ...r.meta, table: name } }
    })
  }
  const results = out.map((r) => r!)
  const statistics = suiteStatistics(results)
  return {
    success: statistics.unsuccessful_expectations === 0,
    results,
    statistics,
    evaluation_parameters: parameters,
    meta: {
      expectation_suite_name: metaSuite.name,
      great_expectations_version: engineVersion(),
      validation_time: clock().toISOString(),
      row_count: tables.results.rows.length,
      validated_suite: declared.name,
      counts: knownCounts(counts),
      skipped: results.filter((r) => r.meta['skipped'] !== undefined).map((r) => r.meta['expectation_id']),
      ...options.meta,
    },
  }
}
