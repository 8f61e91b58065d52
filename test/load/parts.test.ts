import t from 'tap'
import { PartBuilder } from '../../lib/load/batch-parts.ts'
import { featureGroupDto, featureType, schemaDifferences } from '../../lib/load/feature-group.ts'
import { prostateColumns, prostateRows } from '../support/hopsworks/data.ts'

const header = prostateColumns.map((c) => c.name).join(',') + '\n'

t.test('parts are bounded by rows; a batch larger than a part is split', async (t) => {
  const b = new PartBuilder(prostateColumns, { rows: 100 })
  const done = [...b.add(prostateRows(250)), ...b.add(prostateRows(30, 'v'))]
  t.same(done.map((p) => [p.index, p.rows]), [[1, 100], [2, 100]])
  const last = b.finish()!
  t.same([last.index, last.rows], [3, 80])
  t.equal(b.finish(), undefined, 'nothing left')
  for (const p of [...done, last]) {
    t.ok(p.data.toString().startsWith(header), 'each part starts with the header')
    t.equal(p.data.toString().split('\n').length - 2, p.rows, 'one line per row')
  }
})

t.test('parts are bounded by bytes', async (t) => {
  const b = new PartBuilder(prostateColumns, { rows: 1_000_000, bytes: 2048 })
  const parts = [...b.add(prostateRows(10)), ...b.add(prostateRows(10)), ...b.add(prostateRows(10)), ...b.add(prostateRows(10))]
  t.ok(parts.length >= 1 && parts.every((p) => p.data.length >= 2048), 'closed once it reached the limit')
  t.equal(parts.reduce((n, p) => n + p.rows, 0) + (b.finish()?.rows ?? 0), 40)
})

t.test('no rows at all: one header-only part', async (t) => {
  const b = new PartBuilder(prostateColumns)
  t.same(b.add([]), [])
  const p = b.finish()!
  t.equal(p.data.toString(), header)
  t.equal(p.rows, 0)
})

t.test('bad limits: ETL_INVALID_OPTION', async (t) => {
  t.throws(() => new PartBuilder(prostateColumns, { rows: 0 }), { code: 'ETL_INVALID_OPTION', message: 'Invalid option part.rows: expected a positive integer, got 0' })
  t.throws(() => new PartBuilder(prostateColumns, { bytes: 10 }), { code: 'ETL_INVALID_OPTION' })
})

t.test('feature types from PostgreSQL types', async (t) => {
  const want: Record<string, string> = { int2: 'int', int4: 'int', int8: 'bigint', float4: 'float', float8: 'double', numeric: 'double', bool: 'boolean', text: 'string', varchar: 'string', uuid: 'string', json: 'string', jsonb: 'string', date: 'date', timestamp: 'timestamp', timestamptz: 'timestamp', _int4: 'string', bytea: 'string' }
  for (const [pg, hive] of Object.entries(want)) t.equal(featureType(pg), hive, `${pg} -> ${hive}`)
})

t.test('feature group options are checked', async (t) => {
  t.throws(() => featureGroupDto(prostateColumns, { name: 'Bad' }), { code: 'ETL_INVALID_OPTION', message: /^Invalid option featureGroup\.name/ })
  t.throws(() => featureGroupDto(prostateColumns, { version: 0 }), { code: 'ETL_INVALID_OPTION' })
  t.throws(() => featureGroupDto(prostateColumns, { primaryKey: ['nope'] }), { code: 'ETL_INVALID_OPTION', message: /featureGroup\.primaryKey/ })
  t.throws(() => featureGroupDto(prostateColumns, { eventTime: 'age' }), { code: 'ETL_INVALID_OPTION', message: 'Invalid option featureGroup.eventTime: expected a column of type timestamp, date or bigint, got "age (int)"' })
  t.notOk('eventTime' in featureGroupDto(prostateColumns, { eventTime: null }), 'no event time')
  t.throws(() => featureGroupDto([{ name: 'a', type: 'text' }, { name: 'a', type: 'text' }], { primaryKey: ['a'], eventTime: null }), { code: 'ETL_COLUMN_NAME' })
})

t.test('schema differences ignore order, case of types and what a server adds', async (t) => {
  const dto = featureGroupDto(prostateColumns)
  const server = { features: [...dto.features].reverse().map((f) => ({ ...f, type: f.type.toUpperCase(), onlineType: 'x', featureGroupId: 3 })), eventTime: 'datetime' }
  t.same(schemaDifferences(dto, server), [])
  t.same(schemaDifferences(dto, { ...server, eventTime: 'other' }), ['event time is other, wanted datetime'])
  t.same(schemaDifferences(dto, { features: server.features.map((f) => ({ ...f, primary: f.name === 'age' })) }), ['feature age is part of the primary key there', 'feature user_id is not part of the primary key there'])
})
