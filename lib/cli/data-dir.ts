import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { EtlError } from '../errors.ts'

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
