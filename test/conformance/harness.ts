/**
 * Runs Great Expectations' test definitions against our engine the way a
 * production run goes: each dataset becomes a real PostgreSQL table (in a
 * schema of its own, dropped afterwards), and each test streams that table
 * through pgSource -> validate({ suite }) -> a sink, with the prepass query
 * first when the suite needs whole-column statistics.
 */
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { connect, type DbConfig } from '../../lib/extract/connect.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { quoteIdent } from '../../lib/extract/relation.ts'
import { columnStatsFromPg, prepassColumns } from '../../lib/expectations/prepass.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import type { ExpectationResult } from '../../lib/expectations/types.ts'
import { validate } from '../../lib/validate/validate.ts'
import { loadCases, ROW_LEVEL_GROUPS, sqlType, sqlValue, type Case, type GxDataset } from './cases.ts'
import { compare } from './compare.ts'

export interface CaseOutcome {
  readonly type: string
  readonly title: string
  readonly file: string
  readonly status: 'passed' | 'failed' | 'skipped'
  readonly reason?: string
  readonly note?: string
}

export interface Report {
  readonly outcomes: readonly CaseOutcome[]
  readonly passed: number
  readonly failed: number
  readonly skipped: number
}

/** Creates the dataset's table; returns its qualified name. */
export async function loadTable(
  client: pg.Client, schema: string, name: string, ds: GxDataset, withPk: boolean, retype?: Readonly<Record<string, string>>,
): Promise<string> {
  const columns = Object.keys(ds.data)
  const types = columns.map((c) => sqlType(ds, c, retype))
  const defs = columns.map((c, i) => `${quoteIdent(c)} ${types[i]}`)
  if (withPk) defs.push('pk_index bigint')
  const table = `${quoteIdent(schema)}.${quoteIdent(name)}`
  await client.query(`CREATE TABLE ${table} (${defs.join(', ')})`)
  const n = Math.max(0, ...columns.map((c) => ds.data[c]!.length))
  for (let r = 0; r < n; r++) {
    const values = columns.map((c, i) => sqlValue(ds.data[c]![r], types[i]!))
    if (withPk) values.push(r)
    await client.query(`INSERT INTO ${table} VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values)
  }
  return `${schema}.${name}`
}

/** Streams the table through the validating stage with a one-expectation suite. */
async function runOne(client: pg.Client, table: string, c: Case, withPk: boolean): Promise<ExpectationResult> {
  const suite = parseSuite({ expectation_suite_name: 'conformance', expectations: [{ expectation_type: c.type, kwargs: c.test.in }] })
  const needs = prepassColumns(suite)
  const stats = needs.length ? await columnStatsFromPg(client, { table }, needs) : {}
  const stage = validate({
    suite,
    stats,
    resultFormat: withPk ? { result_format: 'COMPLETE', unexpected_index_column_names: ['pk_index'] } : 'COMPLETE',
  })
  const sink = new Writable({ objectMode: true, write: (_batch, _enc, cb) => cb() })
  await pipeline(pgSource(client, { table }, { batchSize: 4 }), stage, sink)
  const summary = await stage.summary
  return summary.result.results[0]!
}

/**
 * Runs every case. `filter` narrows to types whose name includes it; `pick`
 * runs the cases it picks instead, applicable to PostgreSQL or not (tests of
 * GE's pandas-only cases that this engine can run, such as row_condition).
 */
export async function runConformance(config: DbConfig, filter?: string, pick?: (c: Case) => boolean): Promise<Report> {
  const cases = pick
    ? loadCases().filter(pick).map((c) => ({ ...c, skip: undefined }))
    : loadCases().filter((c) => !filter || c.type.includes(filter))
  const schema = `conf_${randomBytes(5).toString('hex')}`
  const client = await connect(config)
  client.on('error', () => {})
  const outcomes: CaseOutcome[] = []
  try {
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`)
    const tables = new Map<GxDataset, string>()
    let retyped = 0
    for (const c of cases) {
      const base = { type: c.type, title: c.test.title, file: `${c.group}/${c.file}#${c.datasetIndex}` }
      if (c.skip) {
        outcomes.push({ ...base, status: 'skipped', reason: c.skip })
        continue
      }
      const withPk = ROW_LEVEL_GROUPS.includes(c.group)
      try {
        let table = c.retype ? undefined : tables.get(c.dataset)
        if (c.retype) table = await loadTable(client, schema, `r${retyped++}`, c.dataset, withPk, c.retype)
        else if (!table) {
          table = await loadTable(client, schema, `d${tables.size}`, c.dataset, withPk)
          tables.set(c.dataset, table)
        }
        const verdict = compare(c.test, await runOne(client, table, c, withPk))
        outcomes.push({ ...base, status: verdict.pass ? 'passed' : 'failed', reason: verdict.reason, note: verdict.note })
      } catch (err) {
        const e = err as { code?: string; message?: string }
        outcomes.push({ ...base, status: 'failed', reason: `${e.code ?? 'Error'}: ${e.message}` })
      }
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => {})
    await client.end().catch(() => {})
  }
  const count = (s: CaseOutcome['status']): number => outcomes.filter((o) => o.status === s).length
  return { outcomes, passed: count('passed'), failed: count('failed'), skipped: count('skipped') }
}

/** Per-type lines and the total line `N passed, N failed, N skipped`. */
export function formatReport(report: Report, verbose = false): string {
  const byType = new Map<string, CaseOutcome[]>()
  for (const o of report.outcomes) byType.set(o.type, [...(byType.get(o.type) ?? []), o])
  const lines: string[] = []
  for (const [type, list] of [...byType].sort((a, b) => a[0].localeCompare(b[0]))) {
    const n = (s: CaseOutcome['status']): number => list.filter((o) => o.status === s).length
    lines.push(`${type}: ${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`)
    for (const o of list) {
      if (o.status === 'failed') lines.push(`  FAIL ${o.title} [${o.file}]: ${o.reason}`)
      else if (verbose && o.note) lines.push(`  note ${o.title}: ${o.note}`)
    }
  }
  lines.push(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`)
  return lines.join('\n')
}
