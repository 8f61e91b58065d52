/**
 * Temporary files left in the data folder by runs that are no longer alive
 * (killed with -9, out of memory, a power cut), removed at the next start
 * while it holds the data folder's lock (data-dir.ts).
 *
 *     <file>.<pid>.<random>.tmp    a stage file, results JSON, run record, cache entry or docs page being written
 *     .etl.lock.<random>.tmp       a taker's lock file not yet linked (it names its holder)
 *
 * A file is stale when the process that wrote it is gone: no process has its
 * pid, or the process that has it now started after the file was last
 * written (the pid was reused: PID 1 in every container), or, for a lock
 * file, its holder is dead by host, pid and start time (lib/load/lock.ts).
 * The local feature store's own staging is the store's to clean
 * (lib/load/store-recover.ts).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writerAlive } from '../flow/liveness.ts'
import { liveness, parseHolder } from '../load/lock.ts'

/** The folders of a data folder where runs write temporary files. */
const FOLDERS = ['.', 'runs', 'cache', 'docs', 'docs/runs']

const PID_TMP = /\.(\d+)\.[0-9a-f]{8}\.tmp$/
const LOCK_TMP = /\.lock\.[0-9a-f]{12}\.tmp$/

async function lockTmpAlive(path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => null)
  if (text === null) return true // gone already, or unreadable: leave it
  const holder = parseHolder(text)
  return holder === 'unreadable' ? true : liveness(holder) !== 'dead'
}

/** What a cleanup removed. */
export interface StaleFiles {
  readonly files: readonly string[]
  readonly bytes: number
}

/** Removes the temporary files of dead runs under `dataDir` (see the module comment). Never throws. */
export async function removeStaleFiles(dataDir: string): Promise<StaleFiles> {
  const files: string[] = []
  let bytes = 0
  for (const folder of FOLDERS) {
    const dir = join(dataDir, folder)
    const names = await readdir(dir).catch(() => [] as string[])
    for (const name of names) {
      const path = join(dir, name)
      const pid = PID_TMP.exec(name)?.[1]
      if (pid === undefined && !LOCK_TMP.test(name)) continue
      const info = await stat(path).catch(() => undefined)
      if (!info?.isFile()) continue
      const alive = pid !== undefined ? writerAlive(Number(pid), info.mtimeMs) : await lockTmpAlive(path)
      if (alive) continue
      try {
        await rm(path)
        files.push(path)
        bytes += info.size
      } catch {
        // removed by someone else, or not ours to remove: left
      }
    }
  }
  return { files, bytes }
}
