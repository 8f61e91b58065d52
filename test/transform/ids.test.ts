/**
 * The three id strategies: nanoid ids unique over a large input, sequential
 * 1..n (and from `start`), derived ids equal on two runs and different for
 * different keys; a NULL key is an error.
 */
import { createHash } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { derivedId, keyText, stamp, type StampOptions } from '../../lib/transform/index.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

const cols = (...spec: [string, string][]): readonly Column[] => Object.freeze(spec.map(([name, type]) => Object.freeze({ name, type })))

/** Runs batches through stamp(options); returns the output rows and the summary. */
async function stampAll(source: Readable, options: StampOptions): Promise<{ rows: Row[]; columns: readonly Column[] }> {
  const stage = stamp(options)
  const rows: Row[] = []
  let columns: readonly Column[] = []
  await pipeline(source, stage, new Writable({
    objectMode: true,
    write(b: Batch, _e, cb) {
      columns = b.columns
      for (const r of b.rows) rows.push(r)
      cb()
    },
  }))
  return { rows, columns }
}

t.test('nanoid (default): 21 URL-safe characters, unique over 200k rows from PostgreSQL', async (t) => {
  const { client } = await testDb(t)
  const source = pgSource(client, { query: 'SELECT g::int4 AS g FROM generate_series(1, 200000) g' }, { batchSize: 1000 })
  const { rows, columns } = await stampAll(source, {})
  t.equal(rows.length, 200000)
  t.same(columns.map((c) => c.name), ['g', 'user_id', 'datetime'])
  const ids = new Set(rows.map((r) => r[1]))
  t.equal(ids.size, 200000, 'zero duplicates')
  t.ok(rows.every((r) => typeof r[1] === 'string' && /^[A-Za-z0-9_-]{21}$/.test(r[1])), 'every id is 21 URL-safe characters')
})

t.test('sequential: 1..n in stream order, int8; `start` offsets', async (t) => {
  const columns = cols(['x', 'text'])
  const batches = (): Readable => Readable.from([0, 1, 2].map((b) => ({ columns, rows: Array.from({ length: 400 }, (_, i) => [`r${b * 400 + i}`]) })))
  const { rows, columns: out } = await stampAll(batches(), { id: 'sequential' })
  t.same(rows.map((r) => r[1]), Array.from({ length: 1200 }, (_, i) => i + 1))
  t.same(rows.map((r) => r[0]), Array.from({ length: 1200 }, (_, i) => `r${i}`), 'in stream order')
  t.same(out[1], { name: 'user_id', type: 'int8' })
  const offset = await stampAll(batches(), { id: 'sequential', start: 5001 })
  t.same([offset.rows[0]![1], offset.rows.at(-1)![1]], [5001, 6200])
  const dropped = await stampAll(Readable.from([{ columns, rows: [['a'], [null], ['c']] }]), { id: 'sequential', missing: { default: 'drop' } })
  t.same(dropped.rows.map((r) => r[1]), [1, 2], 'dropped rows take no number')
})

t.test('derived: equal on two runs, different for different keys, 22 base64url characters', async (t) => {
  const { client } = await testDb(t)
  await client.query(`CREATE TABLE p (site text, patient int4, lpsa float8, seen timestamptz)`)
  await client.query(`INSERT INTO p SELECT 's' || (g % 7), g / 7, g / 10.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour'
                      FROM generate_series(1, 5000) g`)
  const options: StampOptions = { id: 'derived', key: ['site', 'patient'] }
  const first = await stampAll(pgSource(client, { query: 'SELECT * FROM p ORDER BY site, patient' }, { batchSize: 300 }), options)
  const second = await stampAll(pgSource(client, { query: 'SELECT * FROM p ORDER BY patient DESC, site' }, { batchSize: 1000 }), options)
  const idOf = (rows: Row[]): Map<string, unknown> => new Map(rows.map((r) => [`${r[0]}/${r[1]}`, r[4]]))
  const a = idOf(first.rows)
  const b = idOf(second.rows)
  t.equal(a.size, 5000)
  t.ok([...a].every(([k, id]) => b.get(k) === id), 'the same source row gets the same id on another run, in another order and batching')
  t.equal(new Set(a.values()).size, 5000, 'different keys, different ids')
  t.ok([...a.values()].every((id) => typeof id === 'string' && /^[A-Za-z0-9_-]{22}$/.test(id)))

  const third = await stampAll(pgSource(client, { query: 'SELECT * FROM p' }), { id: 'derived', key: ['site', 'patient', 'lpsa'] })
  t.not(idOf(third.rows).get('s1/0'), a.get('s1/0'), 'another key set gives other ids')
})

t.test('derived: the canonical key text keeps values and types apart', async (t) => {
  t.equal(keyText(['a,b', 1, null]), '["a,b",1,null]')
  t.not(derivedId(['1']), derivedId([1]), 'a string and a number differ')
  t.not(derivedId(['a', 'b,c']), derivedId(['a,b', 'c']), 'no separator ambiguity')
  t.not(derivedId([Number.NaN]), derivedId([null]), 'NaN is not null')
  t.equal(derivedId(['x', 2]), createHash('sha256').update('["x",2]').digest('base64url').slice(0, 22), 'sha256 of the key text, base64url, 22 characters')
})

t.test('derived: a NULL key value is an ETL_TRANSFORM error naming the row and column; a dropped row needs no id', async (t) => {
  const columns = cols(['id', 'int4'], ['v', 'text'])
  const input = (): Readable => Readable.from([{ columns, rows: [[1, 'a'], [2, 'b']] }, { columns, rows: [[null, 'c']] }])
  const err = await stampAll(input(), { id: 'derived', key: ['id'] }).then(() => undefined, (e: unknown) => e)
  t.match(err, {
    code: 'ETL_TRANSFORM',
    message: 'row 3: key column "id" is NULL, so no derived id can be made; choose key columns that are never NULL (--key), drop such rows (missing policy "drop" on id), or use --id nanoid',
  })
  const kept = await stampAll(input(), { id: 'derived', key: ['id'], missing: { columns: { id: 'drop' } } })
  t.equal(kept.rows.length, 2)
})
