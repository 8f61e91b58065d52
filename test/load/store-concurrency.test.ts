/**
 * Two loads at once into one local feature group, each in its own process: every row exactly once (the second waits
 * for the first's lock), or a clean refusal (ETL_LOCKED) that leaves the first's rows exactly.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { storeLoad, storeState } from '../support/store.ts'

async function folder(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'etl-two-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  return dataDir
}

const ROUNDS = Number(process.env['ETL_TEST_ROUNDS'] ?? 3)


// Many loads, each synced to disk: on a busy 2-core machine this file can pass the runner's 120 s.
t.setTimeout(600_000)

t.test(`different tables (row prefixes) at once, ${ROUNDS} rounds: every row of both, once`, async (t) => {
  const dataDir = await folder(t)
  t.match(await storeLoad({ dataDir, n: 1000 }), { code: 0 })
  let expected = 1000
  for (let r = 0; r < ROUNDS; r++) {
    const [a, b] = await Promise.all([
      storeLoad({ dataDir, n: 3000, prefix: `a${r}-`, lockTimeoutMs: 60_000, runId: `a${r}` }),
      storeLoad({ dataDir, n: 2000, prefix: `b${r}-`, lockTimeoutMs: 60_000, runId: `b${r}` }),
    ])
    t.equal(a.code, 0, a.out)
    t.equal(b.code, 0, b.out)
    expected += 5000
    const first = a.report!['rowsBefore'] === expected - 5000 ? a : b
    const second = first === a ? b : a
    t.equal(second.report!['rowsBefore'], first.report!['rowsAfter'], `round ${r}: the second merged against the first's commit`)
    const s = await storeState(dataDir)
    t.equal(s.rows!.size, expected, `round ${r}: ${expected} rows`)
    t.equal(s.duplicates, 0)
    t.same(s.leftovers, [])
  }
})

t.test('the same table twice at once: its rows once; the figures add up', async (t) => {
  const dataDir = await folder(t)
  t.match(await storeLoad({ dataDir, n: 1000 }), { code: 0 })
  const [a, b] = await Promise.all([storeLoad({ dataDir, n: 4000, lockTimeoutMs: 60_000 }), storeLoad({ dataDir, n: 4000, lockTimeoutMs: 60_000 })])
  t.equal(a.code, 0, a.out)
  t.equal(b.code, 0, b.out)
  const reports = [a.report!, b.report!].sort((x, y) => Number(x['rowsBefore']) - Number(y['rowsBefore']))
  t.match(reports, [{ rowsBefore: 1000, inserted: 3000, unchanged: 1000, rowsAfter: 4000 }, { rowsBefore: 4000, inserted: 0, unchanged: 4000, rowsAfter: 4000 }])
  const s = await storeState(dataDir)
  t.equal(s.rows!.size, 4000)
  t.equal(s.duplicates, 0)
})

t.test('with --lock-timeout 0 the second load is refused cleanly, naming the first; the store holds the first load', async (t) => {
  const dataDir = await folder(t)
  let staged!: () => void
  const ready = new Promise<void>((resolve) => (staged = resolve))
  const first = storeLoad({ dataDir, n: 2000, prefix: 'f', holdMs: 1500, runId: 'first-run' }, {}, () => staged())
  await ready
  const second = await storeLoad({ dataDir, n: 2000, prefix: 's', lockTimeoutMs: 0, runId: 'second-run' })
  t.equal(second.code, 1)
  t.match(second.out, new RegExp(`^error ETL_LOCKED the feature group prostate_group_1 \\(.+\\) is locked by run first-run \\(pid ${first.pid()} on host `))
  t.match(await first, { code: 0, report: { inserted: 2000 } })
  const s = await storeState(dataDir)
  t.equal(s.rows!.size, 2000)
  t.ok([...s.rows!.keys()].every((k) => k.startsWith('f')), 'only the first load')
  t.same(s.leftovers, [], 'the refused load left nothing')
})
