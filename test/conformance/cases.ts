/**
 * Great Expectations' own test definitions (../shared/conformance/gx, see its
 * README): which apply to a PostgreSQL source, and how each dataset becomes a
 * table (typed from its `postgresql` schema, else by the pandas rule).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CONFORMANCE_DIR = process.env['CONFORMANCE_DIR'] ?? fileURLToPath(new URL('../../../shared/conformance/gx/', import.meta.url))

/** The groups whose datasets get a pk_index column (GE's runner does the same). */
export const ROW_LEVEL_GROUPS = ['column_map_expectations', 'column_pair_map_expectations', 'multicolumn_map_expectations']

export interface GxTest {
  readonly title: string
  readonly in: Record<string, unknown>
  readonly out: Record<string, unknown>
  readonly error?: unknown
  readonly tolerance?: number
  readonly suppress_test_for?: string[]
  readonly only_for?: string[]
}

export interface GxDataset {
  readonly data: Record<string, unknown[]>
  readonly schemas?: Record<string, Record<string, string>>
  readonly tests: GxTest[]
  readonly suppress_test_for?: string[]
  readonly only_for?: string[]
}

export interface Case {
  readonly group: string
  readonly file: string
  readonly type: string
  readonly datasetIndex: number
  readonly dataset: GxDataset
  readonly test: GxTest
  /** Why the test does not apply to PostgreSQL, or undefined when it does. */
  readonly skip: string | undefined
}

const ours = (list: readonly string[] | undefined): boolean => !!list && (list.includes('postgresql') || list.includes('sqlalchemy'))

/** Why a test is skipped for PostgreSQL (suppress_test_for / only_for, on the test or on its dataset). */
export function skipReason(dataset: GxDataset, test: GxTest): string | undefined {
  if (ours(test.suppress_test_for)) return `suppressed for ${test.suppress_test_for!.join(', ')}`
  if (test.only_for && !ours(test.only_for)) return `only for ${test.only_for.join(', ')}`
  if (ours(dataset.suppress_test_for)) return `dataset suppressed for ${dataset.suppress_test_for!.join(', ')}`
  if (dataset.only_for && !ours(dataset.only_for)) return `dataset only for ${dataset.only_for.join(', ')}`
  return undefined
}

/** Every test of every file, in a stable order. */
export function loadCases(dir = CONFORMANCE_DIR): Case[] {
  const cases: Case[] = []
  for (const group of readdirSync(dir).filter((d) => !d.includes('.')).sort()) {
    for (const file of readdirSync(join(dir, group)).filter((f) => f.endsWith('.json')).sort()) {
      const spec = JSON.parse(readFileSync(join(dir, group, file), 'utf8')) as { expectation_type: string; datasets: GxDataset[] }
      spec.datasets.forEach((dataset, datasetIndex) => {
        for (const test of dataset.tests)
          cases.push({ group, file, type: spec.expectation_type, datasetIndex, dataset, test, skip: skipReason(dataset, test) })
      })
    }
  }
  return cases
}

const SCHEMA_TYPES: Readonly<Record<string, string>> = {
  DOUBLE_PRECISION: 'double precision', FLOAT: 'double precision', INTEGER: 'integer', BIGINT: 'bigint', SMALLINT: 'smallint',
  TEXT: 'text', VARCHAR: 'varchar', BOOLEAN: 'boolean', DATE: 'date', TIMESTAMP: 'timestamp', NUMERIC: 'numeric',
}

/**
 * The SQL type of a column: from the dataset's `postgresql` schema, else
 * pandas' to_sql rule: integers without null -> bigint; integers with a
 * null, or any fraction -> double precision; booleans without null ->
 * boolean; anything else -> text.
 */
export function sqlType(dataset: GxDataset, column: string): string {
  const given = dataset.schemas?.['postgresql']?.[column]
  if (given) return SCHEMA_TYPES[given] ?? given.toLowerCase()
  const values = dataset.data[column] ?? []
  const present = values.filter((v) => v !== null)
  const hasNull = present.length < values.length
  if (present.length && present.every((v) => typeof v === 'number')) {
    return !hasNull && present.every((v) => Number.isInteger(v)) ? 'bigint' : 'double precision'
  }
  if (present.length && !hasNull && present.every((v) => typeof v === 'boolean')) return 'boolean'
  return 'text'
}

/** A value as a query parameter for a column of `type`. */
export function sqlValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null
  if (type === 'text' || type === 'varchar') return typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)
  return v
}
