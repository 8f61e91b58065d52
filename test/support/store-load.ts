/**
 * One load into the local feature store, in a process of its own (the store's fault and concurrency tests):
 *   node store-load.ts '{"dataDir":…,"from":0,"n":1000,"prefix":"u","age":null,"write":"merge","buckets":16,
 *                        "lockTimeoutMs":0,"holdMs":0,"runId":"r1"}'
 * Rows are prostateRow(from .. from+n-1) (age replaced by `age` when given), streamed in batches of 1000. `holdMs`:
 * wait that long between staging and the commit (holding the lock). Prints `staged`, then the LoadSummary's report
 * as one JSON line, or `error <code> <message>` (exit 1). ETL_TEST_STORE_KILL=<step> kills it at that commit step.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { localSink } from '../../lib/load/local-sink.ts'
import type { WriteDisposition } from '../../lib/load/sink.ts'
import { prostateColumns, prostateRow } from './hopsworks/data.ts'

interface Args { dataDir: string; from?: number; n: number; prefix?: string; age?: number | null; write?: WriteDisposition; buckets?: number; lockTimeoutMs?: number; holdMs?: number; runId?: string; uniqueKeys?: boolean }
const a = JSON.parse(process.argv[2]!) as Args
const ageAt = prostateColumns.findIndex((c) => c.name === 'age')

function* rows() {
  const from = a.from ?? 0
  for (let i = 0; i < a.n; i += 1000) {
    const batch = []
    for (let j = i; j < Math.min(a.n, i + 1000); j++) {
      const r = prostateRow(from + j, a.prefix ?? 'u')
      if (a.age !== undefined && a.age !== null) r[ageAt] = a.age
      batch.push(r)
    }
    yield { columns: prostateColumns, rows: batch }
  }
}

try {
  const sink = await localSink({ dataDir: a.dataDir, columns: prostateColumns, buckets: a.buckets, write: a.write, lockTimeoutMs: a.lockTimeoutMs ?? 0, runId: a.runId, uniqueKeys: a.uniqueKeys })
  try {
    await pipeline(Readable.from(rows(), { objectMode: true }), sink.writable)
  } catch (err) {
    await sink.abort()
    throw err
  }
  process.stdout.write('staged\n')
  if (a.holdMs) await sleep(a.holdMs)
  const s = await sink.commit()
  process.stdout.write(JSON.stringify({ rows: s.rows, ...s.report }) + '\n')
} catch (err) {
  process.stdout.write(`error ${(err as { code?: string }).code} ${(err as Error).message}\n`)
  process.exitCode = 1
}
