/**
 * A suite proposed from a profile (`etl suite suggest`): what the table looks
 * like today, with margins, each expectation's `meta.notes` saying what it was
 * inferred from. A starting point to read and edit, not a verdict:
 *
 * - the row count between 90% and 150% of today's (a table that grows a lot
 *   between runs needs a wider range);
 * - the columns in their order;
 * - not-null for columns without a NULL;
 * - numeric columns of more than 10 values: between min and max widened by a
 *   tenth of the range on each side (whole numbers for integer columns);
 * - a column of at most 10 distinct values (counted exactly): in that set;
 * - a key-like column (no NULL, every value distinct): unique;
 * - text of one shape (codes such as `AB-123`): the regular expression, and the
 *   lengths between today's shortest and longest.
 */
import type { ColumnProfile, Profile } from './profile.ts'

export interface SuggestedExpectation {
  readonly expectation_type: string
  readonly kwargs: Record<string, unknown>
  readonly meta: { readonly notes: string }
}

export interface SuggestedSuite {
  readonly expectation_suite_name: string
  readonly expectations: readonly SuggestedExpectation[]
  readonly meta: Record<string, unknown>
}

const SET_LIMIT = 10

function round(x: number, down: boolean, integers: boolean): number {
  if (integers) return down ? Math.floor(x) : Math.ceil(x)
  // Two significant decimals past the range's own scale, so the bound reads well and still contains the data.
  const p = 10 ** Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x) || 1)))
  return down ? Math.floor(x * p) / p : Math.ceil(x * p) / p
}

function setValue(c: ColumnProfile, key: string): unknown {
  if (c.family === 'numeric') {
    const x = Number(key)
    return Number.isSafeInteger(x) || (Number.isFinite(x) && String(x) === key) ? x : key
  }
  if (c.family === 'boolean') return key === 'true'
  return key
}

function forColumn(c: ColumnProfile, out: SuggestedExpectation[]): void {
  const nonNull = c.rows - c.nulls
  if (nonNull === 0) return
  const column = c.name
  if (c.nulls === 0) out.push({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column }, meta: { notes: `no NULL in ${c.rows} rows` } })
  if (c.looksLike === 'key')
    out.push({ expectation_type: 'expect_column_values_to_be_unique', kwargs: { column }, meta: { notes: `every one of ${nonNull} values distinct${c.distinct.exact ? '' : ' (approximate count)'}: looks like a key` } })
  const few = c.distinct.exact && c.distinct.value <= SET_LIMIT && c.looksLike !== 'key'
  if (few && c.family !== 'temporal') {
    const set = (c.mostCommon.value.length >= c.distinct.value ? c.mostCommon.value : []).map((v) => setValue(c, v.value))
    if (set.length === c.distinct.value) {
      set.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0))
      out.push({ expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column, value_set: set }, meta: { notes: `${c.distinct.value} distinct values, counted exactly` } })
      return
    }
  }
  if (c.family === 'numeric' && typeof c.min === 'number' && typeof c.max === 'number' && Number.isFinite(c.min) && Number.isFinite(c.max)) {
    const margin = (c.max - c.min) / 10
    const min = round(c.min - margin, true, c.integers)
    const max = round(c.max + margin, false, c.integers)
    out.push({
      expectation_type: 'expect_column_values_to_be_between',
      kwargs: { column, min_value: min, max_value: max },
      meta: { notes: `values from ${c.min} to ${c.max}; bounds widened by a tenth of the range${c.integers ? ', to whole numbers' : ''}` },
    })
    return
  }
  if (c.family === 'text' && c.lengths) {
    if (c.pattern && (c.looksLike === 'code' || c.looksLike === 'key'))
      out.push({ expectation_type: 'expect_column_values_to_match_regex', kwargs: { column, regex: c.pattern }, meta: { notes: `every value has this shape (letters, digits and separators as seen)` } })
    out.push({
      expectation_type: 'expect_column_value_lengths_to_be_between',
      kwargs: { column, min_value: c.lengths.min, max_value: c.lengths.max },
      meta: { notes: `lengths from ${c.lengths.min} to ${c.lengths.max} characters` },
    })
  }
}

/** Proposes a suite named `name` from `profile`. */
export function suggestSuite(profile: Profile, name: string): SuggestedSuite {
  const expectations: SuggestedExpectation[] = [
    {
      expectation_type: 'expect_table_row_count_to_be_between',
      kwargs: { min_value: Math.floor(profile.rows * 0.9), max_value: Math.ceil(profile.rows * 1.5) },
      meta: { notes: `${profile.rows} rows when profiled; 90% to 150% of that` },
    },
    {
      expectation_type: 'expect_table_columns_to_match_ordered_list',
      kwargs: { column_list: profile.columns.map((c) => c.name) },
      meta: { notes: `the ${profile.columns.length} columns in their order` },
    },
  ]
  for (const c of profile.columns) forColumn(c, expectations)
  return {
    expectation_suite_name: name,
    expectations,
    meta: { notes: `suggested by etl suite suggest from a profile of ${profile.source} (${profile.rows} rows) at ${profile.profiledAt}; read it and edit before relying on it` },
  }
}
