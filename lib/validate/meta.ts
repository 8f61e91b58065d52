/**
 * Meta-validation: "validation about validation". A meta suite (a GE suite
 * file, fixtures/suites/meta.json by default, users extend it) runs with the
 * same expectation engine over
 *
 * - the validation results, one row per expectation result, columns as in
 *   extract_validation_results.csv (results.ts: label, results,
 *   expectation_id, ..., raised_exception, vacuous): the default suite checks
 *   that every result is a success, that every declared expectation was
 *   evaluated exactly once, that none is declared twice, that none raised an
 *   exception and that none passed vacuously;
 * - with `meta.table: "counts"`, a one-row table of the stage counts
 *   (extracted, validated, quarantined, transformed, dropped, loaded), so the
 *   count reconciliation is expectations too.
 *
 * Evaluation parameters provided: `declared_expectations`, `declared_ids`, and
 * each known count by name. Checks that need a count not known yet are
 * skipped (success, `meta.skipped`; see meta-run.ts).
 *
 * Two ways in, one answer: metaValidate (the one-pass run, in memory) turns
 * the suite result into rows with resultRows(); metaValidateFiles
 * (`etl meta-validate`) reads the same rows back from the results CSV. Both
 * hand them to the same table builder and runner.
 */
import type { SuiteResult } from '../expectations/types.ts'
import { metaValidateTable, type MetaCommonOptions } from './meta-run.ts'
import { resultsTable } from './meta-tables.ts'
import { RESULTS_COLUMNS, resultRows } from './results.ts'

export { DEFAULT_META_SUITE_PATH, SKIPPED, defaultMetaSuite, metaValidateTable, type MetaCommonOptions } from './meta-run.ts'
export { COUNT_COLUMNS, COUNT_NAMES, countsTable, metaParameters, resultsTable, type CountName, type MetaTables } from './meta-tables.ts'
export { countsFromDataDir, metaValidateFiles, type MetaFilesOptions, type MetaFilesResult } from './meta-files.ts'
export { gateReport } from './meta-report.ts'

/** Options of metaValidate. */
export interface MetaValidateOptions extends MetaCommonOptions {
  /** The validation's suite result (validate()'s summary.result). */
  readonly validation: SuiteResult
}

/**
 * Meta-validates a validation result in memory (the one-pass run): pure, no
 * I/O (but reading the default meta suite once, when none is given).
 *
 * Options: `validation`, `declared` (the validated suite), `counts` (the
 * run's stage counts), `metaSuite` (default fixtures/suites/meta.json),
 * `evaluationParameters`, `clock`, `meta` (see MetaCommonOptions).
 * Returns the meta suite's result in GE's shape; `meta.skipped` lists the ids
 * of checks skipped for want of a count, `meta.counts` the counts used.
 * Throws ETL_SUITE (default meta suite unreadable), ETL_EXPECTATION (a meta
 * expectation with catch_exceptions false cannot run).
 */
export function metaValidate(options: MetaValidateOptions): SuiteResult {
  return metaValidateTable(resultsTable(RESULTS_COLUMNS, resultRows(options.validation)), options)
}
