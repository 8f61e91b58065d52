import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { megabytes } from '../csv/disk.ts'
import { EtlError } from '../errors.ts'
import { acquireLock, type Lock } from '../load/lock.ts'
import { removeStaleFiles } from './stale-files.ts'

/** Makes sure the data folder exists and is writable, before any row moves. Throws ETL_DATA_DIR. */
export async function ensureDataDir(dir: string): Promise<string> {
  const abs = resolve(dir)
  try {
    await mkdir(abs, { recursive: true })
    const probe = join(abs, `.etl-write-check-${process.pid}`)
    await writeFile(probe, '')
    await rm(probe, { force: true })
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `the data folder cannot be written: ${abs} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err })
  }
  return abs
}

/** The data folder's lock file: one run at a time writes its stage files. */
export function dataDirLockPath(dataDir: string): string {
  return join(resolve(dataDir), '.etl.lock')
}

/**
 * Takes the data folder's lock for run `runId` (lib/load/lock.ts: a live
 * holder makes this run wait up to `timeoutMs`, then ETL_LOCKED naming it; a
 * dead one's lock is taken over), then removes the temporary files of runs
 * no longer alive (stale-files.ts), saying what it removed.
 */
export async function lockDataDir(dataDir: string, runId: string, options: { readonly timeoutMs: number; readonly signal: AbortSignal; readonly info?: (message: string) => void }): Promise<Lock> {
  const lock = await acquireLock(dataDirLockPath(dataDir), { runId, timeoutMs: options.timeoutMs, signal: options.signal, what: `the data folder ${resolve(dataDir)}` })
  const stale = await removeStaleFiles(dataDir)
  if (stale.files.length) options.info?.(`removed ${stale.files.length} temporary file(s) of runs no longer alive (${megabytes(stale.bytes)}) from ${resolve(dataDir)}`)
  return lock
}
