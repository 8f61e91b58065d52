/**
 * The shapes of expectation suites and validation results, as Great
 * Expectations writes them (`ExpectationSuite`, `ExpectationValidationResult`,
 * `ExpectationSuiteValidationResult`). Other stages read these types: the
 * meta-validation, the run record, the HTML report.
 */

/** GE's four levels of detail. */
export type ResultFormatName = 'BOOLEAN_ONLY' | 'BASIC' | 'SUMMARY' | 'COMPLETE'

/** `result_format` as a suite may give it: a name, or an object. */
export type ResultFormatInput =
  | ResultFormatName
  | {
      readonly result_format: ResultFormatName
      /** Length of partial lists. Default 20. */
      readonly partial_unexpected_count?: number
      /** Columns whose values identify an unexpected row in `unexpected_index_list`. */
      readonly unexpected_index_column_names?: readonly string[]
      /** Leave the unexpected values out of the result (counts and index lists stay). */
      readonly exclude_unexpected_values?: boolean
      /** Only false: the rows are not kept (refused otherwise). */
      readonly include_unexpected_rows?: boolean
      /** Only false: no query finds the rows (refused otherwise). */
      readonly return_unexpected_index_query?: boolean
    }

/** `result_format` resolved. */
export interface ResultFormat {
  readonly result_format: ResultFormatName
  readonly partial_unexpected_count: number
  readonly unexpected_index_column_names: readonly string[] | undefined
  /** No unexpected values in the result (partial_unexpected_list, partial_unexpected_counts, unexpected_list); counts and index lists stay. */
  readonly exclude_unexpected_values: boolean
}

/** One expectation of a suite, as stored (`type` is the newer spelling of `expectation_type`). */
export interface ExpectationConfig {
  readonly expectation_type: string
  readonly kwargs: Readonly<Record<string, unknown>>
  readonly meta?: Readonly<Record<string, unknown>>
}

/** A suite read and checked by `parseSuite`. */
export interface Suite {
  readonly name: string
  readonly expectations: readonly SuiteExpectation[]
  readonly meta: Readonly<Record<string, unknown>>
  /** What was read differently from how it was written (an older type name): one line each, to be shown to the user. */
  readonly notices?: readonly string[]
  /** The suite's own parameter values (`evaluation_parameters` / `suite_parameters`); those given to the run win. */
  readonly parameters?: Readonly<Record<string, unknown>>
}

/** An expectation of a checked suite, with its position, id and label. */
export interface SuiteExpectation {
  /** Position in the suite, from 0. */
  readonly index: number
  /** Unique in the suite: `meta.id`, else `meta.label`, else `type(column)`; `#index` added to repeats. */
  readonly id: string
  /** The `label` column of extract_validation_results.csv: `meta.label`, else the column(s), else the type. */
  readonly label: string
  readonly config: ExpectationConfig
}

/** Whether evaluating the expectation raised, and why. */
export interface ExceptionInfo {
  readonly raised_exception: boolean
  readonly exception_traceback: string | null
  readonly exception_message: string | null
}

/** The `result` of an expectation; which fields appear depends on the family and the result format. */
export interface ExpectationResultDetail {
  readonly observed_value?: unknown
  readonly element_count?: number
  readonly missing_count?: number
  readonly missing_percent?: number | null
  readonly unexpected_count?: number
  readonly unexpected_percent?: number | null
  readonly unexpected_percent_total?: number | null
  readonly unexpected_percent_nonmissing?: number | null
  readonly partial_unexpected_list?: readonly unknown[]
  readonly partial_unexpected_index_list?: readonly unknown[]
  readonly partial_unexpected_counts?: readonly { readonly value: unknown; readonly count: number }[]
  readonly unexpected_list?: readonly unknown[]
  readonly unexpected_index_list?: readonly unknown[]
  readonly unexpected_index_column_names?: readonly string[]
  readonly details?: Readonly<Record<string, unknown>>
}

/** GE's ExpectationValidationResult. */
export interface ExpectationResult {
  readonly success: boolean
  readonly expectation_config: ExpectationConfig
  readonly result: ExpectationResultDetail
  readonly exception_info: ExceptionInfo
  readonly meta: Readonly<Record<string, unknown>>
}

/** Counts over the suite's expectations. */
export interface SuiteStatistics {
  readonly evaluated_expectations: number
  readonly successful_expectations: number
  readonly unsuccessful_expectations: number
  /** successful / evaluated * 100; null when nothing was evaluated. */
  readonly success_percent: number | null
}

/** GE's ExpectationSuiteValidationResult. */
export interface SuiteResult {
  readonly success: boolean
  readonly results: readonly ExpectationResult[]
  readonly statistics: SuiteStatistics
  readonly evaluation_parameters: Readonly<Record<string, unknown>>
  readonly meta: Readonly<Record<string, unknown>> & {
    readonly expectation_suite_name: string
    readonly great_expectations_version: string
    readonly validation_time?: string
    readonly row_count: number
  }
}

/** Whole-column statistics a z-score check needs before it can judge a row (see prepass.ts). */
export interface ColumnStats {
  readonly count: number
  readonly mean: number | null
  /** Sample standard deviation (ddof 1), as PostgreSQL's stddev_samp and GE. */
  readonly stdev: number | null
}
