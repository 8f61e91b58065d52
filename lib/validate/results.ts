/**
 * The stage files of a validation:
 *
 * - `<prefix>_validation_results.csv`: one row per expectation, with the
 *   original design's columns `label` and `results` (`success` or `failure`)
 *   first, then expectation_id (unique per declared expectation),
 *   expectation_type, column, kwargs (JSON, keys sorted so that equal
 *   configurations compare equal), element_count, missing_count,
 *   unexpected_count, unexpected_percent, observed_value (JSON),
 *   raised_exception and vacuous (see isVacuous). A schema sidecar types it,
 *   so the meta-validation reads the values back typed (kwargs and
 *   observed_value as jsonb): exactly the values resultRows() gives.
 * - `<prefix>_validation_result.json`: the whole suite result, in Great
 *   Expectations' shape.
 *
 * Both are written under a temporary name and renamed into place.
 * `prefix` is `extract` for the extraction validation, `meta_extract` for the
 * meta-validation.
 */
import { join } from 'node:path'
import { parseLineage, type Lineage } from '../csv/lineage.ts'
import { StageFileWriter, writeFileAtomic } from '../csv/stage-file.ts'
import type { ExpectationResult, SuiteResult } from '../expectations/types.ts'
import type { Column, Row } from '../types.ts'

/** The columns of <prefix>_validation_results.csv, with their types (the sidecar). */
export const RESULTS_COLUMNS: readonly Column[] = Object.freeze([
  { name: 'label', type: 'text' },
  { name: 'results', type: 'text' },
  { name: 'expectation_id', type: 'text' },
  { name: 'expectation_type', type: 'text' },
  { name: 'column', type: 'text' },
  { name: 'kwargs', type: 'jsonb' },
  { name: 'element_count', type: 'int8' },
  { name: 'missing_count', type: 'int8' },
  { name: 'unexpected_count', type: 'int8' },
  { name: 'unexpected_percent', type: 'float8' },
  { name: 'observed_value', type: 'jsonb' },
  { name: 'raised_exception', type: 'bool' },
  { name: 'vacuous', type: 'bool' },
].map((c) => Object.freeze(c)))

/** The column(s) an expectation is about: `age`, `a,b` (pairs and lists), or null (table-level). */
export function columnOfConfig(kwargs: Readonly<Record<string, unknown>>): string | null {
  if (typeof kwargs['column'] === 'string') return kwargs['column']
  if (typeof kwargs['column_A'] === 'string') return `${kwargs['column_A']},${String(kwargs['column_B'])}`
  const list = kwargs['column_list'] ?? kwargs['column_set']
  if (Array.isArray(list)) return list.join(',')
  return null
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)

/** Object keys in code-point order, at every depth (a JSON.stringify replacer). */
const sortedKeys = (_key: string, v: unknown): unknown => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
  const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return Object.fromEntries(entries)
}

/** A value as a jsonb column gives it back from the CSV: JSON's value (NaN -> null, undefined dropped); null stays null. */
function asJsonb(v: unknown, sortKeys = false): unknown {
  if (v === undefined || v === null) return null
  const text = JSON.stringify(v, sortKeys ? sortedKeys : undefined)
  return text === undefined ? null : (JSON.parse(text) as unknown)
}

/**
 * True when an expectation passed without judging anything: it succeeded,
 * raised nothing, and its result counts elements of which none was
 * non-missing (zero rows, or a column entirely null; for pair and multicolumn
 * expectations, every row ignored by `ignore_row_if`). Table-level results
 * (row and column counts, column existence) count no elements and are never
 * vacuous.
 */
export function isVacuous(r: ExpectationResult): boolean {
  const n = r.result.element_count
  if (!r.success || r.exception_info.raised_exception || typeof n !== 'number') return false
  return n - (r.result.missing_count ?? 0) <= 0
}

/**
 * One row per expectation result, in RESULTS_COLUMNS order, holding the values
 * the results CSV gives back when read with its sidecar (csvSource): jsonb
 * cells hold JSON values, not JSON text. The meta-validation builds its table
 * from these rows in memory, or from the CSV; both are the same values.
 */
export function resultRows(result: SuiteResult): Row[] {
  return result.results.map((r: ExpectationResult) => {
    const { expectation_type: type, kwargs } = r.expectation_config
    const label = typeof r.meta['label'] === 'string' ? r.meta['label'] : (columnOfConfig(kwargs) ?? type)
    const id = r.meta['expectation_id']
    return [
      label,
      r.success ? 'success' : 'failure',
      typeof id === 'string' ? id : null,
      type,
      columnOfConfig(kwargs),
      asJsonb(kwargs, true),
      num(r.result.element_count),
      num(r.result.missing_count),
      num(r.result.unexpected_count),
      num(r.result.unexpected_percent),
      asJsonb(r.result.observed_value),
      r.exception_info.raised_exception,
      isVacuous(r),
    ]
  })
}

/** The suite result as the JSON file holds it (NaN and infinities become null, as JSON must). */
export function resultJson(result: SuiteResult): string {
  return JSON.stringify(result, null, 2) + '\n'
}

/** Paths of the two validation files. */
export interface ValidationFiles {
  readonly csv: string
  readonly json: string
}

/** The two file names for a prefix, inside `dir`. */
export function validationFileNames(dir: string, prefix = 'extract'): ValidationFiles {
  return { csv: join(dir, `${prefix}_validation_results.csv`), json: join(dir, `${prefix}_validation_result.json`) }
}

/**
 * Writes `<prefix>_validation_results.csv` (+ its `.schema.json` sidecar) and
 * `<prefix>_validation_result.json` into `dir`. With `lineage` (the extract
 * the validated rows came from, lib/csv/lineage.ts), both name it: the
 * sidecar's `lineage` and the JSON's `meta.lineage`. The JSON goes first, so
 * a stop in between leaves a JSON and a CSV naming different extracts (or
 * none), which the readers refuse. Throws ETL_DISK_FULL, ETL_DATA_DIR.
 */
export async function writeValidationFiles(dir: string, result: SuiteResult, prefix = 'extract', lineage?: Lineage): Promise<ValidationFiles> {
  const files = validationFileNames(dir, prefix)
  await writeFileAtomic(files.json, resultJson(lineage ? { ...result, meta: { ...result.meta, lineage } } : result))
  const writer = new StageFileWriter(files.csv, lineage ? { lineage: () => lineage } : {})
  try {
    await writer.write({ columns: RESULTS_COLUMNS, rows: resultRows(result) })
    await writer.commit(RESULTS_COLUMNS)
  } catch (err) {
    await writer.discard()
    throw err
  }
  return files
}

/** The extract a suite result read back from its JSON file names (`meta.lineage`), if any. */
export function resultLineage(result: SuiteResult | undefined): Lineage | undefined {
  return parseLineage(result?.meta['lineage'])
}
