/**
 * A kill at each step of a local commit (the load SIGKILLs itself there: ETL_TEST_STORE_KILL), then a clean load:
 * the killed load leaves the old store or the new one, never none, and the next load puts everything right.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { COMMIT_STEPS } from '../../lib/load/local-sink.ts'
import { storeLoad, storeState } from '../support/store.ts'

const old = { from: 0, n: 2000 } // u0..u1999, age 40 + i % 40
const next = { from: 1000, n: 3000, age: 99 } // u1000..u3999: 1000 updated, 2000 new

for (const step of COMMIT_STEPS) {
  t.test(`killed at the commit step "${step}": the old or the new store, then a clean load holds every row once`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'etl-kill-'))
    t.teardown(() => rm(dataDir, { recursive: true, force: true }))
    t.match(await storeLoad({ dataDir, ...old }), { code: 0, report: { inserted: 2000 } })

    const killed = await storeLoad({ dataDir, ...next }, { ETL_TEST_STORE_KILL: step })
    t.equal(killed.signal, 'SIGKILL')
    const after = await storeState(dataDir)
    t.ok(after.rows, 'the store is there')
    const committed = step === 'committed'
    t.equal(after.rows!.size, committed ? 4000 : 2000, committed ? 'the new store' : 'the old store')
    t.equal(after.duplicates, 0)
    t.equal(after.rows!.get('u1500'), committed ? '99' : String(40 + (1500 % 40)))
    t.equal(after.manifestRows, after.rows!.size, 'the manifest agrees')

    const clean = await storeLoad({ dataDir, ...next })
    t.equal(clean.code, 0, clean.out)
    t.same(clean.report, committed
      ? { rows: 3000, write: 'merge', inserted: 0, updated: 0, unchanged: 3000, deleted: 0, rowsBefore: 4000, rowsAfter: 4000 }
      : { rows: 3000, write: 'merge', inserted: 2000, updated: 1000, unchanged: 0, deleted: 0, rowsBefore: 2000, rowsAfter: 4000 })
    const final = await storeState(dataDir)
    t.equal(final.rows!.size, 4000, 'every key once')
    t.equal(final.duplicates, 0)
    t.equal(final.rows!.get('u1500'), '99')
    t.equal(final.rows!.get('u10'), String(40 + 10))
    t.same(final.leftovers, [], 'no staging folder, lock, tmp file or unnamed part left')
  })
}


// Many loads, each synced to disk: on a busy 2-core machine this file can pass the runner's 120 s.
t.setTimeout(600_000)

t.test('a first load killed before its manifest leaves no feature group; one killed after it leaves the whole load', async (t) => {
  for (const step of ['moving', 'manifest', 'committed'] as const) {
    const dataDir = await mkdtemp(join(tmpdir(), 'etl-kill-'))
    t.teardown(() => rm(dataDir, { recursive: true, force: true }))
    t.equal((await storeLoad({ dataDir, ...old }, { ETL_TEST_STORE_KILL: step })).signal, 'SIGKILL')
    const after = await storeState(dataDir)
    t.equal(after.rows?.size, step === 'committed' ? 2000 : undefined, step)
    t.match(await storeLoad({ dataDir, from: 0, n: 10 }), { code: 0 })
    const final = await storeState(dataDir)
    t.equal(final.rows!.size, step === 'committed' ? 2000 : 10)
    t.same(final.leftovers, [])
  }
})
