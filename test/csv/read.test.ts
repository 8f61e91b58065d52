/**
 * csvSource reads a line without quotes by splitting it and hands a record
 * with quotes to csv-parse: both must give what csv-parse alone gave, for
 * every shape a stage file can take, and the errors must name the line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parse } from 'csv-parse/sync'
import { csvSource } from '../../lib/csv/read.ts'
import { cachedLines } from '../../lib/csv/lines.ts'
import { csvSink } from '../../lib/csv/stage-file.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'

async function dir(t: Test): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'etl-read-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}

async function file(d: string, name: string, columns: readonly Column[], text: string): Promise<string> {
  const path = join(d, name)
  await writeFile(path, text)
  await writeFile(path.replace(/\.csv$/, '.schema.json'), JSON.stringify({ columns }))
  return path
}

async function read(path: string, options: { batchSize?: number; trustedLines?: boolean } = {}): Promise<Batch[]> {
  const out: Batch[] = []
  for await (const b of csvSource(path, options)) out.push(b as Batch)
  return out
}

const text: Column[] = [{ name: 'id', type: 'int4' }, { name: 'note', type: 'text' }, { name: 'x', type: 'float8' }]

t.test('plain and quoted records, line breaks inside quotes, NULL vs empty string, CRLF', async (t) => {
  const d = await dir(t)
  const body = 'id,note,x\n1,plain,1.5\n2,"with, comma",NaN\n3,"two\nlines ""quoted""",-Infinity\n4,,\n5,"",0\n'
  const rows = (await read(await file(d, 'a.csv', text, body), { batchSize: 2 })).flatMap((b) => b.rows)
  t.same(rows, [[1, 'plain', 1.5], [2, 'with, comma', NaN], [3, 'two\nlines "quoted"', -Infinity], [4, null, null], [5, '', 0]])
  const parsed = parse(body, { columns: false }).slice(1) as string[][]
  t.same(rows.map((r) => r[1] ?? ''), parsed.map((r) => r[1]), 'the text values are what csv-parse reads')
  const crlf = (await read(await file(d, 'b.csv', text, body.replaceAll('\n', '\r\n').replace('two\r\nlines', 'two\nlines')))).flatMap((b) => b.rows)
  t.same(crlf, rows, 'CRLF files read the same')
})

t.test('errors name the file and the line: ragged, not a number, an unclosed quote, a header that differs', async (t) => {
  const d = await dir(t)
  await t.rejects(read(await file(d, 'r.csv', text, 'id,note,x\n1,a,1\n2,b\n')), { code: 'ETL_INPUT', message: /r\.csv is not valid CSV: Invalid Record Length: expect 3, got 2 on line 3/ })
  await t.rejects(read(await file(d, 'q.csv', text, 'id,note,x\n1,"a,b",1\n2,"b",1,4\n')), { code: 'ETL_INPUT', message: /Invalid Record Length: expect 3, got 4 on line 3/ })
  await t.rejects(read(await file(d, 'n.csv', text, 'id,note,x\n1,a,one\n')), { code: 'ETL_INPUT', message: /n\.csv line 2: column x is not valid float8: "one"/ })
  await t.rejects(read(await file(d, 'i.csv', text, 'id,note,x\n1.5,a,1\n')), { code: 'ETL_INPUT', message: /column id is not valid int4: "1\.5"/ })
  await t.rejects(read(await file(d, 'o.csv', text, 'id,note,x\n1,"never closed,1\n2,b,2\n')), { code: 'ETL_INPUT', message: /Quote Not Closed/ })
  await t.rejects(read(await file(d, 'h.csv', text, 'id,name,x\n')), { code: 'ETL_INPUT', message: /header \["id","name","x"\] does not match its schema sidecar/ })
  await t.rejects(read(await file(d, 'e.csv', text, '')), { code: 'ETL_INPUT', message: /is empty/ })
})

t.test('trustedLines: a file of our own writer keeps each row\'s line for the sinks; the bytes round-trip', async (t) => {
  const d = await dir(t)
  const rows: Row[] = [[1, 'a', 0.1], [2, 'b, c', null], [3, 'x\ny', 1e21], [4, null, -0.5]]
  const path = join(d, 'ours.csv')
  await pipeline(Readable.from([{ columns: text, rows }]), csvSink(path))
  const batches = await read(path, { trustedLines: true, batchSize: 3 })
  t.same(batches.flatMap((b) => b.rows), rows)
  const lines = batches.flatMap((b) => [...(cachedLines(b.rows) ?? [])])
  t.same(lines, ['1,a,0.1', '2,"b, c",', '3,"x\ny",1e+21', '4,,-0.5'], 'the lines as written')
  t.equal((await read(path)).some((b) => cachedLines(b.rows)), false, 'not kept unless asked')
})
