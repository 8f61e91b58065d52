/**
 * The plan of the transform for one set of input columns, made before any row
 * moves: output column names (feature names), the two new columns, each
 * column's missing-value action, the fill values (typed) and the key columns.
 */
import { EtlError } from '../errors.ts'
import type { Column } from '../types.ts'
import { fillValue } from './fill.ts'
import { featureNames } from './names.ts'
import { resolveOptions, type ResolvedOptions, type StampOptions } from './options.ts'

export const KEEP = 0
export const DROP = 1
export const FILL = 2
export type Action = typeof KEEP | typeof DROP | typeof FILL

export interface Plan {
  /** The input columns this plan was made for. */
  readonly input: readonly Column[]
  /** The output columns (frozen): input columns under their feature names, then idColumn, then datetimeColumn. */
  readonly columns: readonly Column[]
  /** Output names of the input columns. */
  readonly names: readonly string[]
  /** Per input column: what a NULL leads to. */
  readonly actions: readonly Action[]
  /** Per input column: the fill value (typed), where the action is FILL. */
  readonly fills: readonly unknown[]
  /** Whether any column drops or fills (else NULLs are only counted). */
  readonly acts: boolean
  /** Input indexes of the key columns (id derived). */
  readonly keyIndexes: readonly number[]
  /** The source made the ids (derived without key): they are the input's last column, passed through. */
  readonly idFromInput: boolean
  /** Input columns that are data (all, or all but the last when idFromInput). */
  readonly dataCount: number
}

function unknownColumn(option: string, name: string, names: readonly string[]): EtlError {
  const lower = name.toLowerCase()
  const hint = lower !== name && names.includes(lower) ? ` (did you mean ${JSON.stringify(lower)}? columns go by their lowercased feature names)` : ''
  return new EtlError('ETL_INVALID_OPTION', `Invalid option ${option}: no column ${JSON.stringify(name)}${hint}; the columns are ${names.join(', ')}`, { details: { option, column: name } })
}

function clash(option: 'idColumn' | 'datetimeColumn', name: string, source: Column): EtlError {
  const what = option === 'idColumn' ? 'id' : 'time'
  return new EtlError(
    'ETL_COLUMN_NAME',
    `the source already has a column ${JSON.stringify(source.name)}, which clashes with the ${what} column ${JSON.stringify(name)} the transform adds; ` +
      `give the new column another name with the ${option} option ("${option}" in etl.config.json), or rename the source column`,
    { details: { column: source.name, option } },
  )
}

/**
 * Makes the plan for `input` columns. Throws ETL_COLUMN_NAME (a name that is
 * not a feature name, two names that collide, a clash with idColumn or
 * datetimeColumn) and ETL_INVALID_OPTION (an unknown column in `missing` or
 * `key`, a fill value that is not of its column's type).
 */
export function makePlan(allInput: readonly Column[], options: ResolvedOptions): Plan {
  const last = allInput.at(-1)
  // Ids the source made (extract computed them from its key, in PostgreSQL) win over hashing `key` here again.
  const idFromInput = options.id === 'derived' && last?.name === options.idColumn && last.type === 'text'
  if (options.id === 'derived' && !idFromInput && options.key.length === 0)
    throw new EtlError(
      'ETL_INPUT',
      `--id derived takes the ids the source made (a last column ${JSON.stringify(options.idColumn)}, computed by PostgreSQL) and the input has none: ` +
        'extract it again with `etl extract` (it adds the column), pass --key COLS to derive the ids from those columns, or use --id nanoid',
      { details: { column: options.idColumn } },
    )
  if (last?.name === options.idColumn && last.type === 'text' && options.id !== 'derived')
    throw new EtlError(
      'ETL_COLUMN_NAME',
      `the input already has the id column ${JSON.stringify(options.idColumn)} (stable ids made by \`etl extract\`): keep them (--id derived, the default), ` +
        `or extract again with --id ${options.id} so that this transform makes the ids`,
      { details: { column: options.idColumn, option: 'id' } },
    )
  const input = idFromInput ? allInput.slice(0, -1) : allInput
  const names = featureNames(input)
  const at = new Map(names.map((n, i) => [n, i]))
  const idAt = at.get(options.idColumn)
  if (idAt !== undefined) throw clash('idColumn', options.idColumn, input[idAt]!)
  const dtAt = at.get(options.datetimeColumn)
  if (dtAt !== undefined) throw clash('datetimeColumn', options.datetimeColumn, input[dtAt]!)

  const actions: Action[] = []
  const fills: unknown[] = []
  for (const name of Object.keys(options.missingColumns))
    if (!at.has(name)) throw unknownColumn(`missing.columns.${name}`, name, names)
  for (let i = 0; i < input.length; i++) {
    const name = names[i]!
    const own = options.missingColumns[name]
    const policy = own ?? options.missingDefault
    if (policy === 'keep') actions.push(KEEP)
    else if (policy === 'drop') actions.push(DROP)
    else {
      actions.push(FILL)
      fills[i] = fillValue(own ? `missing.columns.${name}.fill` : 'missing.default.fill', input[i]!.type, policy.fill)
    }
  }

  const keyIndexes: number[] = []
  if (options.id === 'derived' && !idFromInput) {
    for (const k of options.key) {
      const i = at.get(k)
      if (i === undefined) throw unknownColumn('key', k, names)
      keyIndexes.push(i)
    }
  }

  const columns = Object.freeze([
    ...input.map((c, i) => (c.name === names[i] ? c : Object.freeze({ name: names[i]!, type: c.type }))),
    Object.freeze({ name: options.idColumn, type: options.id === 'sequential' ? 'int8' : 'text' }),
    Object.freeze({ name: options.datetimeColumn, type: 'timestamptz' }),
  ])
  if (idFromInput) keyIndexes.push(input.length)
  return { input: allInput, columns, names, actions, fills, acts: actions.some((a) => a !== KEEP), keyIndexes, idFromInput, dataCount: input.length }
}

/**
 * The output columns of the transform for `columns`, checked before any row
 * moves: each name lowercased, then `idColumn` (`text`; `int8` for
 * sequential ids) and `datetimeColumn` (`timestamptz`). The options are those
 * of stamp().
 *
 * Throws ETL_COLUMN_NAME (a name that cannot be made a feature name, two
 * names that lowercase alike, a clash with idColumn/datetimeColumn) and
 * ETL_INVALID_OPTION (bad options, an unknown column in `missing` or `key`,
 * a fill value that is not of its column's type).
 */
export function planColumns(columns: readonly Column[], options: StampOptions = {}): readonly Column[] {
  return makePlan(columns, resolveOptions(options)).columns
}
