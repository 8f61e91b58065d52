/**
 * A full disk under the data folder: ETL_DISK_FULL (exit 1: the run failed,
 * the configuration is fine), saying which folder and how much space was
 * needed, so that a retry after freeing space is a plain re-run. The writers
 * remove what they had half-written before the error reaches the caller.
 */
import { statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import { EtlError } from '../errors.ts'

const MB = 1024 * 1024

/** `12.3 MB` */
export function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`
}

/** Bytes free for this user in the folder holding `path`, or undefined when the system cannot tell. */
export async function freeBytes(path: string): Promise<number | undefined> {
  return (await space(path))?.free
}

/** The free and total bytes of the file system holding `path`'s folder, or undefined. */
async function space(path: string): Promise<{ free: number; total: number } | undefined> {
  try {
    const s = await statfs(dirname(path))
    return { free: Number(s.bavail) * Number(s.bsize), total: Number(s.blocks) * Number(s.bsize) }
  } catch {
    return undefined
  }
}

export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/** The ETL_DISK_FULL error for writing `path`: `needed` bytes at least (what was written plus what did not fit). */
export async function diskFullError(path: string, needed: number, cause?: unknown): Promise<EtlError> {
  const fs = await space(path)
  const folder = dirname(path)
  const where = fs ? ` (a file system of ${megabytes(fs.total)}, ${megabytes(fs.free)} free)` : ''
  return new EtlError('ETL_DISK_FULL', `the disk is full: ${folder}${where} cannot hold ${path}, which needs at least ${megabytes(needed)}; nothing was kept of it: free some space and run again`, {
    cause, details: { folder, file: path, neededBytes: needed, ...(fs ? { freeBytes: fs.free, totalBytes: fs.total } : {}) },
  })
}

/**
 * The coded error for a failed write of `path`: ETL_DISK_FULL when the disk
 * (or the quota) is full, else ETL_DATA_DIR. `chunk` is the size of the write
 * that failed, `before` the bytes written before it.
 */
export async function writeError(path: string, err: unknown, chunk: number, before = 0): Promise<EtlError> {
  if (err instanceof EtlError) return err
  if (isDiskFull(err)) return diskFullError(path, before + chunk, err)
  return new EtlError('ETL_DATA_DIR', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
}

/** Refuses with ETL_DISK_FULL, before anything is written, a file of `bytes` that cannot fit beside `path`. */
export async function checkFreeSpace(path: string, bytes: number): Promise<void> {
  const free = await freeBytes(path)
  if (free !== undefined && free < bytes) throw await diskFullError(path, bytes)
}
