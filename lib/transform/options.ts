/**
 * The transform's options, checked once (STYLE rule 4): unknown keys are
 * rejected, each bad value is named with what was expected and what came.
 * An option given as `undefined` counts as not given (settings spread in).
 */
import { EtlError, invalidOption } from '../errors.ts'
import type { Column } from '../types.ts'
import { featureNameProblem } from './names.ts'

export type IdStrategy = 'nanoid' | 'sequential' | 'derived'
export type DatetimeMode = 'run' | 'row'

/** What to do with a missing (NULL) value: keep it, drop the row, or fill it with a value of the column's type. */
export type MissingPolicy = 'keep' | 'drop' | { readonly fill: unknown }

/** The missing-value policy: one for every column (`default`, itself default `keep`) and per column, by output name. */
export interface MissingOptions {
  readonly default?: MissingPolicy
  readonly columns?: Readonly<Record<string, MissingPolicy>>
}

/** Options of planColumns() and stamp(). */
export interface StampOptions {
  /** How `idColumn` is made: `nanoid` (default, 21 random URL-safe characters), `sequential` (start..), `derived` (from `key`, or made by the source). */
  readonly id?: IdStrategy | undefined
  /**
   * The key columns (output names) of `id: 'derived'`, hashed here from their values; ignored otherwise.
   * Without them, `derived` takes the ids the source made: the input's last column, named `idColumn`
   * (pgSource's `identity` option, lib/extract/identity.ts, computes them in PostgreSQL from its own text).
   */
  readonly key?: readonly string[] | undefined
  /** First number of `id: 'sequential'` (default 1): a partitioned run offsets each part. A safe integer. */
  readonly start?: number | undefined
  /** `run` (default): every row gets `runTime`; `row`: the time the row was stamped. */
  readonly datetime?: DatetimeMode | undefined
  /** The run time of `datetime: 'run'` (default: new Date() when the stage is made). Also the summary's runTime. */
  readonly runTime?: Date | undefined
  /** Clock of `datetime: 'row'`, in epoch milliseconds (default Date.now). */
  readonly now?: (() => number) | undefined
  /** Name of the id column (default `user_id`); must be a feature name not used by a source column. */
  readonly idColumn?: string | undefined
  /** Name of the time column (default `datetime`); must be a feature name not used by a source column. */
  readonly datetimeColumn?: string | undefined
  /** Missing-value policy (default: keep every NULL). */
  readonly missing?: MissingOptions | undefined
  /** The input columns, when known: the stage is planned at once (errors thrown by stamp()), not at the first batch. */
  readonly columns?: readonly Column[] | undefined
}

/** Normalized options: defaults applied, values checked. */
export interface ResolvedOptions {
  readonly id: IdStrategy
  readonly key: readonly string[]
  readonly start: number
  readonly datetime: DatetimeMode
  readonly runTime: Date
  readonly now: () => number
  readonly idColumn: string
  readonly datetimeColumn: string
  readonly missingDefault: MissingPolicy
  readonly missingColumns: Readonly<Record<string, MissingPolicy>>
}

const KNOWN = ['id', 'key', 'start', 'datetime', 'runTime', 'now', 'idColumn', 'datetimeColumn', 'missing', 'columns']

function checkPolicy(path: string, policy: unknown): MissingPolicy {
  if (policy === 'keep' || policy === 'drop') return policy
  if (typeof policy === 'object' && policy !== null && !Array.isArray(policy)) {
    const keys = Object.keys(policy)
    if (keys.length === 1 && keys[0] === 'fill') return policy as { readonly fill: unknown }
  }
  throw invalidOption(path, '"keep", "drop" or {"fill": value}', policy)
}

function checkNewColumn(option: string, name: unknown): string {
  if (typeof name !== 'string' || featureNameProblem(name) !== undefined)
    throw invalidOption(option, 'a feature name (^[a-z][a-z0-9_]*$, at most 63 characters)', name)
  return name
}

/** Checks the options and applies the defaults. Throws ETL_INVALID_OPTION. */
export function resolveOptions(options: StampOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  for (const k of Object.keys(options))
    if (!KNOWN.includes(k)) throw new EtlError('ETL_INVALID_OPTION', `Unknown option ${k} (known: ${KNOWN.join(', ')})`, { details: { option: k } })
  const { id = 'nanoid', key, start = 1, datetime = 'run', runTime = new Date(), now = Date.now, missing } = options
  if (id !== 'nanoid' && id !== 'sequential' && id !== 'derived') throw invalidOption('id', '"nanoid", "sequential" or "derived"', id)
  if (datetime !== 'run' && datetime !== 'row') throw invalidOption('datetime', '"run" or "row"', datetime)
  if (!Number.isSafeInteger(start)) throw invalidOption('start', 'a safe integer', start)
  if (!(runTime instanceof Date) || Number.isNaN(runTime.getTime())) throw invalidOption('runTime', 'a valid Date', runTime)
  if (typeof now !== 'function') throw invalidOption('now', 'a function returning epoch milliseconds', now)
  if (key !== undefined && (!Array.isArray(key) || key.some((k) => typeof k !== 'string' || k === '')))
    throw invalidOption('key', 'an array of column names', key)
  if (key !== undefined && !key.length) throw invalidOption('key', 'at least one column name', key)
  if (key && new Set(key).size !== key.length) throw invalidOption('key', 'distinct column names', key)
  const idColumn = checkNewColumn('idColumn', options.idColumn ?? 'user_id')
  const datetimeColumn = checkNewColumn('datetimeColumn', options.datetimeColumn ?? 'datetime')
  if (idColumn === datetimeColumn) throw invalidOption('datetimeColumn', `a name other than idColumn (${JSON.stringify(idColumn)})`, datetimeColumn)
  if (missing !== undefined && (typeof missing !== 'object' || missing === null || Array.isArray(missing)))
    throw invalidOption('missing', 'an object {default?, columns?}', missing)
  for (const k of Object.keys(missing ?? {}))
    if (k !== 'default' && k !== 'columns') throw new EtlError('ETL_INVALID_OPTION', `Unknown option missing.${k} (known: default, columns)`, { details: { option: `missing.${k}` } })
  const missingDefault = missing?.default === undefined ? 'keep' : checkPolicy('missing.default', missing.default)
  const columns = missing?.columns ?? {}
  if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) throw invalidOption('missing.columns', 'an object {column: policy}', columns)
  const missingColumns: Record<string, MissingPolicy> = {}
  for (const [name, policy] of Object.entries(columns)) missingColumns[name] = checkPolicy(`missing.columns.${name}`, policy)
  return {
    id, key: key ?? [], start, datetime, runTime, now, idColumn, datetimeColumn, missingDefault, missingColumns,
  }
}
