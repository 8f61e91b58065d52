/**
 * Key ranges: every row in exactly one range, whatever the key's type and
 * spread (NULLs, repeated values, NaN, timestamps); the key chosen or refused
 * with a message that names the flag.
 */
import t, { type Test } from 'tap'
import { choosePartitionKey, planPartitions, rangeSource } from '../../lib/scale/partition.ts'
import { testDb } from '../support/pg.ts'

type Client = Awaited<ReturnType<typeof testDb>>['client']

/** Rows of each range (by the table's row id), checked for overlap and coverage. */
async function cover(t: Test, client: Client, table: string, column: string, n: number): Promise<number[]> {
  const key = await choosePartitionKey(client, table, column)
  const plan = await planPartitions(client, table, key, n)
  const seen = new Map<number, number>()
  const sizes: number[] = []
  for (const range of plan.ranges) {
    const source = rangeSource(plan, range) as { query: string; values: unknown[] }
    const { rows } = await client.query<{ rid: number }>(`SELECT rid FROM (${source.query}) s`, source.values)
    sizes.push(rows.length)
    for (const r of rows) seen.set(r.rid, (seen.get(r.rid) ?? 0) + 1)
  }
  const { rows: all } = await client.query<{ c: number }>(`SELECT count(*)::int AS c FROM ${table}`)
  t.equal(seen.size, all[0]!.c, `${table}.${column} / ${n}: every row in a range`)
  t.same([...seen.values()].filter((c) => c !== 1), [], `${table}.${column} / ${n}: no row in two ranges`)
  return sizes
}

t.test('ranges cover every row exactly once: integers, floats with NaN and NULL, repeated values, timestamps', async (t) => {
  const { client } = await testDb(t)
  await client.query(`CREATE TABLE k AS SELECT g AS rid, g AS id, CASE WHEN g % 50 = 0 THEN NULL WHEN g % 97 = 0 THEN 'NaN'::float8 ELSE (g * 0.37)::float8 END AS x,
    (g % 3)::int AS few, timestamptz '2024-01-01 00:00:00.123456+00' + g * interval '1 second' AS ts FROM generate_series(1, 5000) g`)
  const ids = await cover(t, client, 'k', 'id', 4)
  t.same(ids, [1249, 1250, 1250, 1251], 'quantile ranges are even on a uniform key (percentile_disc bounds, half-open)')
  await cover(t, client, 'k', 'x', 7)
  const few = await cover(t, client, 'k', 'few', 8)
  t.same(few, [1666, 1667, 1667], 'equal quantiles collapse: one range per distinct value, none empty')
  await cover(t, client, 'k', 'ts', 5)
  t.same(await cover(t, client, 'k', 'id', 1), [5000], 'one partition is the whole table')
})

t.test('an empty table gives one range; a NULL-only key puts everything in the first', async (t) => {
  const { client } = await testDb(t)
  await client.query('CREATE TABLE e (rid int, id int)')
  t.same(await cover(t, client, 'e', 'id', 4), [0])
  await client.query('CREATE TABLE nn AS SELECT g AS rid, NULL::int AS id FROM generate_series(1, 10) g')
  t.same(await cover(t, client, 'nn', 'id', 3), [10])
})

t.test('the key: the numeric primary key by default; otherwise a clear error naming --partition-key', async (t) => {
  const { client } = await testDb(t)
  await client.query('CREATE TABLE withpk (code text, n bigint PRIMARY KEY)')
  t.same(await choosePartitionKey(client, 'withpk', undefined), { column: 'n', type: 'int8' })
  await client.query('CREATE TABLE nopk (name text, age int, seen timestamptz)')
  await t.rejects(choosePartitionKey(client, 'nopk', undefined), { code: 'ETL_USAGE', message: /no numeric or timestamp primary key.*pass --partition-key COL \(numeric or timestamp columns: age, seen\)/ })
  await client.query('CREATE TABLE textpk (code text PRIMARY KEY)')
  await t.rejects(choosePartitionKey(client, 'textpk', undefined), { code: 'ETL_USAGE', message: /--partition-key COL.*no numeric or timestamp column/ })
  await t.rejects(choosePartitionKey(client, 'nopk', 'name'), { code: 'ETL_USAGE', message: /the column is text; a partition key must be numeric or a timestamp/ })
  await t.rejects(choosePartitionKey(client, 'nopk', 'missing'), { code: 'ETL_USAGE', message: /no such column in nopk \(columns: name, age, seen\)/ })
  await t.rejects(choosePartitionKey(client, 'nosuch', undefined), { code: 'ETL_UNKNOWN_TABLE' })
  await t.rejects(planPartitions(client, 'nopk', { column: 'age', type: 'int4' }, 0), { code: 'ETL_INVALID_OPTION' })
})
