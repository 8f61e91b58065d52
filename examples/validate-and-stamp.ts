// A table piped through validate and stamp into your own writable: here, one JSON line per row on stdout.
// Run: DATABASE_URL=postgres://user@host/db node examples/validate-and-stamp.ts   (in your project: from 'prostate-etl')
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { databaseFromEnv, pgSource, readSuite, stamp, validate, type Batch } from '../lib/index.ts'

const db = databaseFromEnv() ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const suite = await readSuite(new URL('../fixtures/suites/prostate.json', import.meta.url).pathname)
const checked = validate({ suite })
const stamped = stamp({ id: 'derived', key: ['lcavol', 'lweight', 'age', 'lbph', 'lcp', 'gleason', 'pgg45', 'lpsa'] })

const out = new Writable({
  objectMode: true,
  write(batch: Batch, _encoding, done) {
    const names = batch.columns.map((c) => c.name)
    for (const row of batch.rows) process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n, i) => [n, row[i]]))) + '\n')
    done()
  },
})

await pipeline(pgSource(db, { table: 'prostate' }), checked, stamped, out)
const { result } = await checked.summary
console.error(`validation ${result.success ? 'passed' : 'FAILED'}: ${result.statistics.successful_expectations}/${result.statistics.evaluated_expectations} expectations`)
process.exitCode = result.success ? 0 : 3
