/**
 * The kill matrix of scripts/faults-store.ts (20 random SIGKILLs over `etl run` of 300k rows), a fixed sample kept
 * small for `npm test`: 100k rows, two moments, each followed by a clean run that must leave every row exactly once
 * and nothing else behind.
 */
import t from 'tap'
import { runMatrix } from '../../scripts/faults-store.ts'

t.setTimeout(600_000)

t.test('etl run of 100k rows killed at 50% and 85% of its run: after each clean run, every row once, no leftovers', async (t) => {
  const r = await runMatrix({ kills: [0.5, 0.85], rows: 100_000, log: (l) => t.comment(l) })
  for (const k of r.kills) {
    t.ok(k.afterKill.rows === undefined || k.afterKill.rows === 100_000, `killed at ${k.atMs} ms: no store yet, or the whole first load (${k.afterKill.rows})`)
    t.equal(k.afterKill.duplicates, 0)
    t.equal(k.cleanExit, 0)
    t.equal(k.afterClean.rows, 100_000)
    t.equal(k.afterClean.duplicates, 0)
    t.equal(k.afterClean.leftoverBytes, 0, 'the clean run removed what the killed one left')
  }
  t.ok(r.ok)
})
