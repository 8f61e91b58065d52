/**
 * The missing-value policy: keep (counts only), drop (every dropped row
 * counted), fill per column and for all (the fill value typed by its column);
 * counts per column in the summary; incoming rows never mutated.
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { stamp, type StampOptions, type TransformSummary } from '../../lib/transform/index.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

const columns: readonly Column[] = Object.freeze([
  Object.freeze({ name: 'Age', type: 'int4' }), Object.freeze({ name: 'lpsa', type: 'float8' }),
  Object.freeze({ name: 'note', type: 'text' }), Object.freeze({ name: 'seen', type: 'timestamptz' }),
])
const input = (): Batch[] => [
  { columns, rows: [[60, 1.5, 'a', '2024-01-01T00:00:00.000Z'], [null, 2.5, null, null], [70, null, 'c', null]] },
  { columns, rows: [[null, null, null, null], [80, 3.5, 'e', '2024-01-02T00:00:00.000Z']] },
]

async function run(options: StampOptions, batches = input()): Promise<{ rows: Row[]; summary: TransformSummary; out: Batch[] }> {
  const stage = stamp({ ...options, datetime: 'run', runTime: new Date('2024-05-06T07:08:09.010Z') })
  const out: Batch[] = []
  await pipeline(Readable.from(batches), stage, new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (out.push(b), cb()) }))
  return { rows: out.flatMap((b) => b.rows.map((r) => r.slice(0, 4))), summary: await stage.summary, out }
}

t.test('keep (default): NULLs pass, counted per column before any policy', async (t) => {
  const { rows, summary } = await run({})
  t.same(rows, input().flatMap((b) => b.rows))
  t.same(summary.missing, { age: 2, lpsa: 2, note: 2, seen: 3 }, 'by output (lowercased) name, every column listed')
  t.same(summary.filled, {})
  t.same([summary.rows, summary.rowsIn, summary.dropped, summary.batches], [5, 5, 0, 2])
})

t.test('drop: a NULL in a drop column drops the row; every dropped row counted', async (t) => {
  const one = await run({ missing: { columns: { age: 'drop' } } })
  t.same(one.rows.map((r) => r[0]), [60, 70, 80])
  t.same([one.summary.rows, one.summary.dropped, one.summary.rowsIn], [3, 2, 5])
  t.same(one.summary.missing, { age: 2, lpsa: 2, note: 2, seen: 3 }, 'missing still counts the dropped rows (before policy)')
  const all = await run({ missing: { default: 'drop' } })
  t.same(all.rows.map((r) => r[0]), [60, 80])
  t.same([all.summary.rows, all.summary.dropped], [2, 3])
  const except = await run({ missing: { default: 'drop', columns: { seen: 'keep' } } })
  t.same(except.rows.map((r) => r[0]), [60, 80], 'a per-column policy wins over the default')
  const allGone = await run({ missing: { default: 'drop' } }, [{ columns, rows: [[null, 1, 'x', null]] }, { columns, rows: [[1, null, 'y', null]] }])
  t.equal(allGone.out.length, 1, 'the first batch goes on even when empty: it carries the columns; later empty ones do not')
  t.same(allGone.out[0]!.rows, [])
  t.equal(allGone.out[0]!.columns.length, 6)
  t.equal(allGone.summary.dropped, 2)
})

t.test('fill: per column and for all, typed by the column, counted over rows out', async (t) => {
  const per = await run({ missing: { columns: { age: { fill: 0 }, note: { fill: 'n/a' } } } })
  t.same(per.rows, [
    [60, 1.5, 'a', '2024-01-01T00:00:00.000Z'], [0, 2.5, 'n/a', null], [70, null, 'c', null],
    [0, null, 'n/a', null], [80, 3.5, 'e', '2024-01-02T00:00:00.000Z'],
  ])
  t.same(per.summary.filled, { age: 2, note: 2 })
  t.same(per.summary.missing, { age: 2, lpsa: 2, note: 2, seen: 3 })

  const typed = await run({ missing: { default: { fill: '0' }, columns: { seen: { fill: '1970-01-01' } } } })
  t.same(typed.rows[3], [0, 0, '0', '1970-01-01T00:00:00.000Z'], 'a string fill becomes the column type: int4 0, float8 0, text "0", timestamptz')
  t.same(typed.summary.filled, { age: 2, lpsa: 2, note: 2, seen: 3 })
  t.throws(() => stamp({ columns, missing: { default: { fill: '0' } } }), {
    code: 'ETL_INVALID_OPTION', message: 'Invalid option missing.default.fill: expected a fill value for a timestamptz column, got "0"',
  }, 'a fill for all must suit every column it applies to')

  const mixed = await run({ missing: { default: { fill: '2024-03-04 05:06:07' }, columns: { age: 'drop', lpsa: { fill: -1 }, note: 'keep' } } })
  t.same(mixed.rows, [[60, 1.5, 'a', '2024-01-01T00:00:00.000Z'], [70, -1, 'c', '2024-03-04T05:06:07.000Z'], [80, 3.5, 'e', '2024-01-02T00:00:00.000Z']],
    'a timestamp without zone is taken as UTC')
  t.same(mixed.summary.filled, { lpsa: 1, seen: 1 }, 'values of dropped rows are not counted as filled')
  t.same([mixed.summary.rows, mixed.summary.dropped], [3, 2])
})

t.test('fill values of each type', async (t) => {
  const { client } = await testDb(t)
  await client.query(`CREATE TABLE m (i8 int8, n numeric, b bool, d date, j jsonb, a int4[], u uuid)`)
  await client.query(`INSERT INTO m VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
  const stage = stamp({
    missing: { columns: { i8: { fill: '9007199254740993' }, n: { fill: '1.25' }, b: { fill: 'false' }, d: { fill: '2024-02-29' }, j: { fill: { k: [1] } }, a: { fill: '[1,2]' }, u: { fill: '00000000-0000-0000-0000-000000000000' } } },
  })
  const out: Row[] = []
  await pipeline(pgSource(client, { table: 'm' }), stage, new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (out.push(...b.rows), cb()) }))
  t.same(out[0]!.slice(0, 7), ['9007199254740993', 1.25, false, '2024-02-29', { k: [1] }, [1, 2], '00000000-0000-0000-0000-000000000000'],
    'the values pgSource would give for those types (int8 beyond 2^53 as its exact text)')
  const bad: [string, unknown, string][] = [['i8', 1.5, 'int8'], ['b', 'yes', 'bool'], ['d', '29.02.2024', 'date'], ['a', 3, '_int4'], ['n', 'x', 'numeric']]
  for (const [col, fill, type] of bad)
    t.throws(() => stamp({ columns: [{ name: col, type }], missing: { columns: { [col]: { fill } } } }), {
      code: 'ETL_INVALID_OPTION', message: `Invalid option missing.columns.${col}.fill: expected a fill value for a ${type} column, got ${JSON.stringify(fill)}`,
    })
})

t.test('incoming rows are never mutated (a tee may share them)', async (t) => {
  const batches = input()
  const before = JSON.stringify(batches)
  const { out } = await run({ missing: { default: { fill: 1 }, columns: { note: 'drop', seen: { fill: '2000-01-01T00:00:00Z' } } } }, batches)
  t.equal(JSON.stringify(batches), before)
  t.ok(out.every((b) => b.rows.every((r) => batches.every((ib) => !ib.rows.includes(r)))), 'every output row is a new array')
})
