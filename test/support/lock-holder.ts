/**
 * A process that takes a lock (lib/load/lock.ts), for the lock tests:
 *   node lock-holder.ts <lock> <runId> <holdMs> <timeoutMs> [counterFile rounds]
 * Prints `took <ms>` when it holds the lock and `released <ms>` after; `refused <code> <message>` on a refusal.
 * With a counter file: takes the lock `rounds` times, each time reading the number, waiting, writing it + 1
 * (lost updates show when two hold the lock at once). holdMs < 0 holds until killed.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { acquireLock } from '../../lib/load/lock.ts'

const [path, runId, holdMs, timeoutMs, counter, rounds] = process.argv.slice(2) as [string, string, string, string, string?, string?]
try {
  for (let r = 0; r < Number(rounds ?? 1); r++) {
    const lock = await acquireLock(path, { runId, timeoutMs: Number(timeoutMs), pollMs: 20 })
    process.stdout.write(`took ${Date.now()}\n`)
    if (counter) {
      const n = Number(await readFile(counter, 'utf8'))
      await sleep(Number(holdMs))
      await writeFile(counter, String(n + 1))
    } else if (Number(holdMs) < 0) await new Promise(() => setInterval(() => {}, 1000))
    else await sleep(Number(holdMs))
    process.stdout.write(`released ${Date.now()}\n`)
    await lock.release()
  }
} catch (err) {
  process.stdout.write(`refused ${(err as { code?: string }).code} ${(err as Error).message}\n`)
  process.exitCode = 1
}
