/**
 * Hopsworks feature names: `^[a-z][a-z0-9_]*$`, at most 63 characters.
 * A source column name is made to fit by lowercasing it, and by nothing else:
 * any other rewrite (spaces to `_`, a prefix for a leading digit) could make
 * two columns collide silently or hide a typo, so those names are an error
 * that says how to rename the column at the source.
 */
import { EtlError } from '../errors.ts'
import type { Column } from '../types.ts'

export const FEATURE_NAME = /^[a-z][a-z0-9_]*$/
export const FEATURE_NAME_MAX = 63

/** Why `name` is not a feature name, or undefined when it is one. */
export function featureNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty'
  if (name.length > FEATURE_NAME_MAX) return `it has ${name.length} characters (at most ${FEATURE_NAME_MAX})`
  if (!FEATURE_NAME.test(name)) {
    if (!/^[a-z]/.test(name)) return 'it does not start with a letter'
    return 'it holds characters other than a-z, 0-9 and _'
  }
  return undefined
}

/**
 * The feature names of the source columns, in order: each name lowercased.
 *
 * Throws ETL_COLUMN_NAME, before any row moves, when a lowercased name breaks
 * the rule (naming the column and the reason) or when two columns lowercase to
 * the same name.
 */
export function featureNames(columns: readonly Column[]): string[] {
  const names: string[] = []
  const seen = new Map<string, string>()
  for (const column of columns) {
    const name = column.name.toLowerCase()
    const problem = featureNameProblem(name)
    if (problem)
      throw new EtlError(
        'ETL_COLUMN_NAME',
        `column ${JSON.stringify(column.name)} cannot be a feature name: ${problem}. ` +
          `Feature names match ^[a-z][a-z0-9_]*$ (at most ${FEATURE_NAME_MAX} characters, upper case is lowered); ` +
          `rename it at the source, e.g. --query 'SELECT "${column.name.replace(/"/g, '""')}" AS new_name, ...'`,
        { details: { column: column.name } },
      )
    const before = seen.get(name)
    if (before !== undefined)
      throw new EtlError(
        'ETL_COLUMN_NAME',
        `columns ${JSON.stringify(before)} and ${JSON.stringify(column.name)} both become the feature name ${JSON.stringify(name)}; rename one at the source (--query ... AS other_name)`,
        { details: { column: column.name, other: before } },
      )
    seen.set(name, column.name)
    names.push(name)
  }
  return names
}
