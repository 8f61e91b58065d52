/**
 * Partitions validated apart and merged give exactly the whole's result, for
 * every expectation type: each of Great Expectations' test cases (real
 * PostgreSQL tables, read through pgSource) is validated whole, then split at
 * several points (and in three), each part's state sent through JSON, merged
 * in source order, and the two results compared.
 */
import t from 'tap'
import { compile, type CompiledSuite, type SuiteState } from '../../lib/expectations/engine.ts'
import { EXPECTATION_TYPES } from '../../lib/expectations/catalog.ts'
import { columnStatsFromBatches, prepassColumns } from '../../lib/expectations/prepass.ts'
import { encodeState } from '../../lib/expectations/state-json.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { loadCases, ROW_LEVEL_GROUPS, type GxDataset } from '../conformance/cases.ts'
import { loadTable } from '../conformance/harness.ts'
import { testDb } from '../support/pg.ts'

const canon = (v: unknown): string => JSON.stringify(encodeState(v))

function run(c: CompiledSuite, rows: readonly Row[], chunk = 3): SuiteState {
  const s = c.init()
  for (let i = 0; i < rows.length; i += chunk) c.update(s, rows.slice(i, i + chunk))
  if (!rows.length) c.update(s, [])
  return s
}

/** A state as another process would receive it. */
const viaJson = (c: CompiledSuite, s: SuiteState): SuiteState => c.fromJSON(JSON.parse(JSON.stringify(c.toJSON(s))))

t.test('merge(a, b) gives the whole result for every type and split point', async (t) => {
  const { client, schema } = await testDb(t)
  const cases = loadCases().filter((c) => !c.skip)
  const tables = new Map<GxDataset, { columns: readonly Column[]; rows: Row[] }>()
  const covered = new Set<string>()
  let comparisons = 0
  for (const c of cases) {
    const withPk = ROW_LEVEL_GROUPS.includes(c.group)
    let data = tables.get(c.dataset)
    if (!data) {
      const table = await loadTable(client, schema, `m${tables.size}`, c.dataset, withPk)
      const rows: Row[] = []
      let columns: readonly Column[] = []
      for await (const b of pgSource(client, { table })) {
        columns = (b as Batch).columns
        rows.push(...(b as Batch).rows)
      }
      data = { columns, rows }
      tables.set(c.dataset, data)
    }
    let suite
    try {
      suite = parseSuite({ expectations: [{ expectation_type: c.type, kwargs: c.test.in }] })
    } catch {
      continue
    }
    const needs = prepassColumns(suite)
    const stats = needs.length ? await columnStatsFromBatches([{ columns: data.columns, rows: data.rows }], needs) : {}
    const compiled = compile(suite, data.columns, {
      stats,
      resultFormat: withPk ? { result_format: 'COMPLETE', unexpected_index_column_names: ['pk_index'] } : 'COMPLETE',
    })
    const whole = canon(compiled.finish(run(compiled, data.rows, 1000)))
    const n = data.rows.length
    const points = [...new Set([0, 1, Math.floor(n / 2), n - 1, n].filter((p) => p >= 0 && p <= n))]
    for (const p of points) {
      const a = viaJson(compiled, run(compiled, data.rows.slice(0, p)))
      const b = viaJson(compiled, run(compiled, data.rows.slice(p)))
      const merged = canon(compiled.finish(compiled.merge(a, b)))
      comparisons++
      if (merged !== whole) t.fail(`${c.type} / ${c.test.title}: split at ${p} of ${n} differs`, { found: merged, wanted: whole })
    }
    const third = Math.floor(n / 3)
    const parts = [data.rows.slice(0, third), data.rows.slice(third, 2 * third), data.rows.slice(2 * third)].map((r) => run(compiled, r, 2))
    const left = compiled.merge(compiled.merge(parts[0]!, parts[1]!), parts[2]!)
    const right = compiled.merge(parts[0]!, compiled.merge(parts[1]!, parts[2]!))
    comparisons += 2
    t.equal(canon(compiled.finish(left)), whole, `${c.type} / ${c.test.title}: ((a b) c)`)
    t.equal(canon(compiled.finish(right)), whole, `${c.type} / ${c.test.title}: (a (b c))`)
    covered.add(c.type)
  }
  t.same(EXPECTATION_TYPES.filter((x) => !covered.has(x)), [], 'every expectation type was split and merged')
  t.ok(comparisons > 1500, `${comparisons} comparisons`)
})
