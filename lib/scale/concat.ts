/**
 * Joins the partitions' part files into one stage file, in partition order:
 * the header once, then each part's bytes after its header (no parsing, no
 * formatting: the parts are already the CSV of the stage file). Written like
 * every stage file: a temporary name, the sidecar, then the rename.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, rm, stat } from 'node:fs/promises'
import { csvHeader } from '../csv/format.ts'
import { readSidecar, sidecarPath } from '../csv/schema.ts'
import { writeFileAtomic } from '../csv/stage-file.ts'
import { EtlError } from '../errors.ts'
import type { Column } from '../types.ts'

const same = (a: readonly Column[], b: readonly Column[]): boolean => a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type)

/** Concatenates `parts` into `out`; the sidecar gets `extra` plus the columns and the row total. */
export async function concatStageFiles(parts: readonly string[], out: string, extra: Readonly<Record<string, unknown>> = {}): Promise<{ rows: number; columns: readonly Column[] }> {
  let columns: readonly Column[] | undefined
  let rows = 0
  for (const part of parts) {
    const s = await readSidecar(part)
    if (s.columns.length && columns?.length && !same(columns, s.columns)) throw new EtlError('ETL_INPUT', `${part}: its columns differ from the other partitions'`)
    if (!columns?.length) columns = s.columns
    rows += s.rows ?? 0
  }
  columns ??= []
  const header = csvHeader(columns)
  const skip = Buffer.byteLength(header)
  const tmp = `${out}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const file = await open(tmp, 'w')
  try {
    if (columns.length) await file.write(header)
    for (const part of parts) {
      if ((await stat(part)).size === 0) continue
      const head = await open(part, 'r')
      try {
        const { bytesRead, buffer } = await head.read(Buffer.alloc(skip), 0, skip, 0)
        if (bytesRead !== skip || buffer.toString() !== header) throw new EtlError('ETL_INPUT', `${part}: its header is not the stage file's`)
      } finally {
        await head.close()
      }
      for await (const chunk of createReadStream(part, { start: skip, highWaterMark: 1 << 20 })) await file.write(chunk as Buffer)
    }
    await file.sync()
    await file.close()
    // The old sidecar first, the new one last (as StageFileWriter.commit): never a new sidecar beside an old file.
    await rm(sidecarPath(out), { force: true })
    await rename(tmp, out)
    await writeFileAtomic(sidecarPath(out), JSON.stringify({ ...extra, columns, rows }, null, 2) + '\n')
  } catch (err) {
    await file.close().catch(() => {})
    await rm(tmp, { force: true })
    throw err instanceof EtlError ? err : new EtlError('ETL_DATA_DIR', `cannot write ${out}: ${(err as Error).message}`, { cause: err })
  }
  return { rows, columns }
}
