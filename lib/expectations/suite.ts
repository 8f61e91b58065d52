/**
 * Reading an expectation suite in Great Expectations' JSON form:
 *
 *     {"expectation_suite_name": "prostate",
 *      "expectations": [{"expectation_type": "expect_column_values_to_be_between",
 *                        "kwargs": {"column": "age", "min_value": 41, "max_value": 80},
 *                        "meta": {"label": "age"}}]}
 *
 * The newer spelling (`name`, `type`, a top-level `id` per expectation) is
 * accepted too. The shape is checked first (shapeProblems), then each
 * expectation's type against the catalog and its kwarg names against the
 * type's own list.
 * Any problem throws ETL_SUITE naming the expectation (`#index type`).
 * Kwarg *values* are checked later, against the table's columns (engine.ts):
 * a bad value there becomes an error result, as GE's catch_exceptions does.
 */
import { historyOptionsOf } from './history.ts'
import { readFile } from 'node:fs/promises'
import { EtlError } from '../errors.ts'
import { CATALOG, COMMON_KWARGS } from './catalog.ts'
import { DEFAULT_RESULT_FORMAT, resultFormatOf } from './kwargs.ts'
import type { ExpectationConfig, Suite, SuiteExpectation } from './types.ts'

/**
 * Older names of expectation types, from Great Expectations' own history
 * (core/expectation_configuration.py's kwarg_lookup_dict, 0.13-0.18): read as
 * the current name, with a notice.
 */
export const TYPE_ALIASES: Readonly<Record<string, string>> = {
  // the class ExpectColumnPairValuesAToBeGreaterThanB is registered under the lower-case name since 0.13
  expect_column_pair_values_A_to_be_greater_than_B: 'expect_column_pair_values_a_to_be_greater_than_b',
  // "NOTE: This method is deprecated. Please use expect_select_column_values_to_be_unique_within_record instead" (same kwargs and metric)
  expect_multicolumn_values_to_be_unique: 'expect_select_column_values_to_be_unique_within_record',
}

/**
 * Kwargs whose value this reader checks itself, because only some values have
 * a meaning here: anything else is refused with ETL_SUITE naming the kwarg.
 * (The expectation builders read every other kwarg; a test checks that.)
 */
export const SUITE_CHECKED_KWARGS: Readonly<Record<string, (v: unknown) => string | undefined>> = {
  output_strftime_format: (v) =>
    v === null ? undefined
      : 'output_strftime_format is not supported: Great Expectations\' SQL backend never applies it (it formatted parsed dates of pandas columns; 0.15 deprecated it with parse_strings_as_datetimes); format the column in the source query',
  allow_cross_type_comparisons: (v) =>
    v === null || v === false ? undefined
      : v === true ? 'allow_cross_type_comparisons true is not supported: PostgreSQL compares values of one type only, and Great Expectations\' SQL backend raises NotImplementedError for it; cast the column in the source query'
        : `allow_cross_type_comparisons must be true or false, got ${JSON.stringify(v)}`,
  include_config: (v) =>
    v === null || v === true ? undefined
      : v === false ? 'include_config false is not supported: every result carries its expectation_config (the meta-validation and the data docs read it)'
        : `include_config must be true or false, got ${JSON.stringify(v)}`,
  catch_exceptions: (v) => (v === null || typeof v === 'boolean' ? undefined : `catch_exceptions must be true or false, got ${JSON.stringify(v)}`),
  meta: (v) => (v === null || isObject(v) ? undefined : `meta must be an object, got ${JSON.stringify(v)}`),
  // read again when the expectation is compiled; refused here when no run could honour it
  result_format: (v) => {
    if (isObject(v) && '$PARAMETER' in v) return undefined
    try {
      resultFormatOf(v, DEFAULT_RESULT_FORMAT)
      return undefined
    } catch (err) {
      return (err as Error).message
    }
  },
}

/** The keys an expectation may have. */
const EXPECTATION_KEYS = new Set([
  'expectation_type', 'type', 'kwargs', 'meta', 'id', 'notes', 'description', 'rendered_content', 'expectation_context', 'severity', 'ge_cloud_id',
])

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The problems of a suite's shape, every one (as a JSON Schema validator with
 * allErrors would list them; the messages read as ajv's did when this was a
 * schema). Hand-written: ajv and its compiled schemas were ~20 MB of every
 * run's memory, for a shape this small.
 */
function shapeProblems(input: unknown): string[] {
  const out: string[] = []
  const type = (at: string, v: unknown, want: 'object' | 'string' | 'array' | 'object,null' | 'string,null'): boolean => {
    const ok = want === 'object' ? isObject(v) : want === 'string' ? typeof v === 'string' : want === 'array' ? Array.isArray(v)
      : want === 'object,null' ? v === null || isObject(v) : v === null || typeof v === 'string'
    if (!ok) out.push(`${at || '(root)'} must be ${want}`)
    return ok
  }
  if (!type('', input, 'object')) return out
  const suite = input as Record<string, unknown>
  if (!('expectations' in suite)) out.push(`(root) must have required property 'expectations'`)
  for (const key of ['expectation_suite_name', 'name'] as const) if (key in suite) type(`/${key}`, suite[key], 'string')
  if ('meta' in suite) type('/meta', suite['meta'], 'object,null')
  for (const key of ['evaluation_parameters', 'suite_parameters'] as const) if (key in suite) type(`/${key}`, suite[key], 'object,null')
  if ('expectations' in suite && type('/expectations', suite['expectations'], 'array')) {
    ;(suite['expectations'] as unknown[]).forEach((item, i) => {
      const at = `/expectations/${i}`
      if (!type(at, item, 'object')) return
      const e = item as Record<string, unknown>
      for (const key of Object.keys(e)) if (!EXPECTATION_KEYS.has(key)) out.push(`${at}: unknown key ${JSON.stringify(key)}`)
      for (const key of ['expectation_type', 'type'] as const) {
        if (key in e && type(`${at}/${key}`, e[key], 'string') && (e[key] as string).length < 1) out.push(`${at}/${key} must NOT have fewer than 1 characters`)
      }
      if ('kwargs' in e) type(`${at}/kwargs`, e['kwargs'], 'object')
      if ('meta' in e) type(`${at}/meta`, e['meta'], 'object,null')
      if ('id' in e) type(`${at}/id`, e['id'], 'string,null')
      if (!('expectation_type' in e) && !('type' in e)) out.push(`${at}: needs "expectation_type" (or "type")`)
    })
  }
  return out
}

function where(path: string | undefined): string {
  return path ? `${path}: ` : ''
}

function columnsOf(kwargs: Readonly<Record<string, unknown>>): string | undefined {
  if (typeof kwargs['column'] === 'string') return kwargs['column']
  if (typeof kwargs['column_A'] === 'string' && typeof kwargs['column_B'] === 'string') return `${kwargs['column_A']},${kwargs['column_B']}`
  const list = kwargs['column_list']
  if (Array.isArray(list) && list.every((c) => typeof c === 'string')) return list.join(',')
  return undefined
}

/**
 * Checks and normalises a suite (already parsed from JSON). `source` names it
 * in messages (a file path). Throws ETL_SUITE.
 */
export function parseSuite(input: unknown, source?: string): Suite {
  const problems = shapeProblems(input)
  if (problems.length) {
    const lines = [...new Set(problems)]
    throw new EtlError('ETL_SUITE', `${where(source)}not a valid expectation suite: ${lines.join('; ')}`, { details: { errors: lines } })
  }
  const raw = input as {
    expectation_suite_name?: string; name?: string; meta?: Record<string, unknown> | null; expectations: Record<string, unknown>[]
    evaluation_parameters?: Record<string, unknown> | null; suite_parameters?: Record<string, unknown> | null
  }
  const ids = new Set<string>()
  const notices: string[] = []
  const expectations: SuiteExpectation[] = raw.expectations.map((e, index) => {
    const written = (e['expectation_type'] ?? e['type']) as string
    const name = `expectation #${index} (${written})`
    if (e['expectation_type'] !== undefined && e['type'] !== undefined && e['expectation_type'] !== e['type'])
      throw new EtlError('ETL_SUITE', `${where(source)}${name}: "type" and "expectation_type" disagree`, { details: { index, type: written } })
    const type = Object.hasOwn(TYPE_ALIASES, written) ? TYPE_ALIASES[written]! : written
    if (type !== written) notices.push(`${where(source)}${name}: the older name of ${type}; read as ${type}`)
    if (!Object.hasOwn(CATALOG, type))
      throw new EtlError('ETL_SUITE', `${where(source)}${name}: unknown expectation type ${JSON.stringify(type)}`, { details: { index, type } })
    const kwargs = (e['kwargs'] ?? {}) as Record<string, unknown>
    const known = [...CATALOG[type]!.kwargs, ...COMMON_KWARGS]
    const unknown = Object.keys(kwargs).filter((k) => !known.includes(k))
    if (unknown.length) {
      throw new EtlError('ETL_SUITE', `${where(source)}${name}: unknown kwarg ${unknown.map((k) => JSON.stringify(k)).join(', ')} (it takes ${known.join(', ')})`, {
        details: { index, type, unknown },
      })
    }
    for (const [k, check] of Object.entries(SUITE_CHECKED_KWARGS)) {
      const problem = Object.hasOwn(kwargs, k) ? check(kwargs[k]) : undefined
      if (problem) throw new EtlError('ETL_SUITE', `${where(source)}${name}: ${problem}`, { details: { index, type, kwarg: k } })
    }
    // `meta` given as a kwarg (the 0.x function-call form, expect_...(..., meta={...})) is the expectation's meta.
    const kwMeta = isObject(kwargs['meta']) ? kwargs['meta'] : {}
    const meta = { ...kwMeta, ...((e['meta'] ?? {}) as Record<string, unknown>) }
    const columns = columnsOf(kwargs)
    const label = typeof meta['label'] === 'string' ? meta['label'] : (columns ?? type)
    const given = typeof meta['id'] === 'string' ? meta['id'] : typeof e['id'] === 'string' ? e['id'] : undefined
    if (given !== undefined && ids.has(given)) throw new EtlError('ETL_SUITE', `${where(source)}${name}: id ${JSON.stringify(given)} is used twice`, { details: { index, type } })
    let id = given ?? (typeof meta['label'] === 'string' ? meta['label'] : `${type}(${columns ?? ''})`)
    if (ids.has(id)) id = `${id}#${index}`
    ids.add(id)
    const config: ExpectationConfig = { expectation_type: type, kwargs, ...(e['meta'] || isObject(kwargs['meta']) ? { meta } : {}) }
    // A malformed meta.history is refused with the suite, and so is one on an expectation that observes no single value.
    if (historyOptionsOf(config, `${where(source)}${name}`) && !['column_aggregate', 'table'].includes(CATALOG[type]!.family))
      throw new EtlError('ETL_SUITE', `${where(source)}${name}: meta.history needs an aggregate expectation (one that observes a value, such as a mean or a row count)`, { details: { index, type } })
    return Object.freeze({ index, id, label, config })
  })
  return Object.freeze({
    name: raw.expectation_suite_name ?? raw.name ?? 'default',
    expectations: Object.freeze(expectations),
    meta: raw.meta ?? {},
    notices: Object.freeze(notices),
    // 0.x `evaluation_parameters`, 1.x `suite_parameters`: values for {"$PARAMETER": ...}; a run's own parameters win
    parameters: { ...raw.evaluation_parameters, ...raw.suite_parameters },
  })
}

/**
 * Reads and checks a suite file. Throws ETL_SUITE (missing file, bad JSON, bad
 * suite). `onNotice` gets each line of `notices` (an older type name read as
 * the current one), for the run's log.
 */
export async function readSuite(path: string, onNotice?: (message: string) => void): Promise<Suite> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new EtlError('ETL_SUITE', `cannot read suite ${path}: ${(err as Error).message}`, { cause: err, details: { path } })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new EtlError('ETL_SUITE', `${path}: not valid JSON: ${(err as Error).message}`, { cause: err, details: { path } })
  }
  const suite = parseSuite(json, path)
  for (const n of suite.notices ?? []) onNotice?.(n)
  return suite
}
