/**
 * Reading an expectation suite in Great Expectations' JSON form:
 *
 *     {"expectation_suite_name": "prostate",
 *      "expectations": [{"expectation_type": "expect_column_values_to_be_between",
 *                        "kwargs": {"column": "age", "min_value": 41, "max_value": 80},
 *                        "meta": {"label": "age"}}]}
 *
 * The newer spelling (`name`, `type`, a top-level `id` per expectation) is
 * accepted too. The shape is checked with ajv (compiled once, at module
 * scope), then each expectation's type against the catalog and its kwarg
 * names with the type's own ajv schema (compiled once, on first use).
 * Any problem throws ETL_SUITE naming the expectation (`#index type`).
 * Kwarg *values* are checked later, against the table's columns (engine.ts):
 * a bad value there becomes an error result, as GE's catch_exceptions does.
 */
import { readFile } from 'node:fs/promises'
import { Ajv, type ErrorObject } from 'ajv'
import { EtlError } from '../errors.ts'
import { CATALOG, COMMON_KWARGS } from './catalog.ts'
import type { ExpectationConfig, Suite, SuiteExpectation } from './types.ts'

const suiteSchema = {
  type: 'object',
  required: ['expectations'],
  properties: {
    expectation_suite_name: { type: 'string' },
    name: { type: 'string' },
    expectations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          expectation_type: { type: 'string', minLength: 1 },
          type: { type: 'string', minLength: 1 },
          kwargs: { type: 'object' },
          meta: { type: ['object', 'null'] },
          id: { type: ['string', 'null'] },
          notes: {},
          description: {},
          rendered_content: {},
          expectation_context: {},
          severity: {},
          ge_cloud_id: {},
        },
        additionalProperties: false,
        anyOf: [{ required: ['expectation_type'] }, { required: ['type'] }],
      },
    },
    meta: { type: ['object', 'null'] },
  },
} as const

const ajv = new Ajv({ allErrors: true, strict: false })
const checkSuite = ajv.compile(suiteSchema)

/** One ajv validator per expectation type (only the kwarg names it takes), compiled on first use and kept. */
const kwargValidators = new Map<string, ReturnType<typeof ajv.compile>>()

function kwargsValidator(type: string): ReturnType<typeof ajv.compile> {
  let check = kwargValidators.get(type)
  if (!check) {
    check = ajv.compile({ type: 'object', propertyNames: { enum: [...CATALOG[type]!.kwargs, ...COMMON_KWARGS] } })
    kwargValidators.set(type, check)
  }
  return check
}

function where(path: string | undefined): string {
  return path ? `${path}: ` : ''
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '(root)'
  if (e.keyword === 'additionalProperties') return `${at}: unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`
  if (e.keyword === 'anyOf') return `${at}: needs "expectation_type" (or "type")`
  return `${at} ${e.message ?? 'is invalid'}`
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
  if (!checkSuite(input)) {
    const lines = [...new Set((checkSuite.errors ?? []).map(describe))]
    throw new EtlError('ETL_SUITE', `${where(source)}not a valid expectation suite: ${lines.join('; ')}`, { details: { errors: lines } })
  }
  const raw = input as { expectation_suite_name?: string; name?: string; meta?: Record<string, unknown> | null; expectations: Record<string, unknown>[] }
  const ids = new Set<string>()
  const expectations: SuiteExpectation[] = raw.expectations.map((e, index) => {
    const type = (e['expectation_type'] ?? e['type']) as string
    const name = `expectation #${index} (${type})`
    if (e['expectation_type'] !== undefined && e['type'] !== undefined && e['expectation_type'] !== e['type'])
      throw new EtlError('ETL_SUITE', `${where(source)}${name}: "type" and "expectation_type" disagree`, { details: { index, type } })
    if (!Object.hasOwn(CATALOG, type))
      throw new EtlError('ETL_SUITE', `${where(source)}${name}: unknown expectation type ${JSON.stringify(type)}`, { details: { index, type } })
    const kwargs = (e['kwargs'] ?? {}) as Record<string, unknown>
    const check = kwargsValidator(type)
    if (!check(kwargs)) {
      const known = [...CATALOG[type]!.kwargs, ...COMMON_KWARGS]
      const unknown = Object.keys(kwargs).filter((k) => !known.includes(k))
      throw new EtlError('ETL_SUITE', `${where(source)}${name}: unknown kwarg ${unknown.map((k) => JSON.stringify(k)).join(', ')} (it takes ${known.join(', ')})`, {
        details: { index, type, unknown },
      })
    }
    const meta = (e['meta'] ?? {}) as Record<string, unknown>
    const columns = columnsOf(kwargs)
    const label = typeof meta['label'] === 'string' ? meta['label'] : (columns ?? type)
    const given = typeof meta['id'] === 'string' ? meta['id'] : typeof e['id'] === 'string' ? e['id'] : undefined
    if (given !== undefined && ids.has(given)) throw new EtlError('ETL_SUITE', `${where(source)}${name}: id ${JSON.stringify(given)} is used twice`, { details: { index, type } })
    let id = given ?? (typeof meta['label'] === 'string' ? meta['label'] : `${type}(${columns ?? ''})`)
    if (ids.has(id)) id = `${id}#${index}`
    ids.add(id)
    const config: ExpectationConfig = { expectation_type: type, kwargs, ...(e['meta'] ? { meta } : {}) }
    return Object.freeze({ index, id, label, config })
  })
  return Object.freeze({
    name: raw.expectation_suite_name ?? raw.name ?? 'default',
    expectations: Object.freeze(expectations),
    meta: raw.meta ?? {},
  })
}

/** Reads and checks a suite file. Throws ETL_SUITE (missing file, bad JSON, bad suite). */
export async function readSuite(path: string): Promise<Suite> {
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
  return parseSuite(json, path)
}
