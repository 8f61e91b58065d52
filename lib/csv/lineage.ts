/**
 * Lineage of the stage files: which extract each one descends from.
 *
 *     etl extract   extracted.csv            lineage { extractId: <run id>, checksum: sha256 of extracted.csv }
 *     etl validate  *_validation_results.*   the lineage of the file it read
 *     etl transform transformed.csv          the lineage of the file it read
 *     etl load      refuses unless transformed.csv and both results name the same extract
 *
 * Every stage file's sidecar also holds `sha256`, the checksum of its own
 * bytes computed while it was written, so a file changed or replaced after it
 * was written (beside its old sidecar) is refused rather than trusted.
 * A file whose sidecar names no lineage (made by hand, or by an older
 * version) descends from itself: `extractId` "unrecorded" and its own checksum.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { EtlError } from '../errors.ts'
import { sidecarPath } from './schema.ts'

/** The extract a stage file descends from. */
export interface Lineage {
  /** The run id of the `etl extract` (or `etl run`) that read the source; "unrecorded" for a file that named none. */
  readonly extractId: string
  /** `sha256:<hex>` of the extracted CSV; null when the rows were validated straight from the source (no file). */
  readonly checksum: string | null
}

/** A lineage as read from JSON, or undefined when `v` is not one. */
export function parseLineage(v: unknown): Lineage | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const { extractId, checksum } = v as { extractId?: unknown; checksum?: unknown }
  if (typeof extractId !== 'string' || !(checksum === null || typeof checksum === 'string')) return undefined
  return { extractId, checksum }
}

export function sameLineage(a: Lineage, b: Lineage): boolean {
  return a.extractId === b.extractId && a.checksum === b.checksum
}

/** `extract 20261204T...-abcd (sha256:1234abcd...)` */
export function describeLineage(l: Lineage | undefined): string {
  if (!l) return 'no recorded extract'
  return `extract ${l.extractId} (${l.checksum === null ? 'read from the source' : `${l.checksum.slice(0, 19)}...`})`
}

/** The SHA-256 of a file's bytes, `sha256:<hex>`. Throws ETL_INPUT when it cannot be read. */
export async function fileChecksum(path: string): Promise<string> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new EtlError('ETL_INPUT', `input file not found: ${path}`, { cause: err })
    throw new EtlError('ETL_INPUT', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  return `sha256:${hash.digest('hex')}`
}

/** What a stage file's sidecar says of its lineage and its own checksum (both may be absent). */
export async function declaredLineage(csvPath: string): Promise<{ lineage?: Lineage; sha256?: string } | undefined> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(sidecarPath(csvPath), 'utf8'))
  } catch {
    return undefined // no sidecar or not JSON: the reader of the CSV refuses it with ETL_INPUT
  }
  const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { lineage?: unknown; sha256?: unknown }
  const lineage = parseLineage(o.lineage)
  return { ...(lineage ? { lineage } : {}), ...(typeof o.sha256 === 'string' ? { sha256: o.sha256 } : {}) }
}

/**
 * The lineage of a stage file about to be read, after checking that the file
 * is the one its sidecar describes (its `sha256`). Throws ETL_LINEAGE when
 * the file changed after it was written, ETL_INPUT when it cannot be read.
 */
export async function stageLineage(csvPath: string): Promise<Lineage> {
  const declared = await declaredLineage(csvPath)
  const own = await fileChecksum(csvPath)
  if (declared?.sha256 !== undefined && declared.sha256 !== own) {
    throw new EtlError('ETL_LINEAGE', `${csvPath} is not the file its sidecar describes (the sidecar says ${declared.sha256.slice(0, 19)}..., the file is ${own.slice(0, 19)}...): it was changed after it was written; re-run the stage that made ${basename(csvPath)}`, {
      details: { file: csvPath, expected: declared.sha256, actual: own },
    })
  }
  return declared?.lineage ?? { extractId: 'unrecorded', checksum: own }
}

/** One input of a stage and the extract it descends from (undefined: it names none). */
export interface LineageInput {
  readonly file: string
  readonly lineage: Lineage | undefined
}

/**
 * Checks that every input descends from the same extract; resolves that
 * lineage. An input naming no extract differs from every one that does.
 * Throws ETL_LINEAGE saying which files differ and `rerun` (what to run again).
 */
export function checkLineage(inputs: readonly LineageInput[], rerun: string): Lineage | undefined {
  const first = inputs[0]
  if (!first) return undefined
  const odd = inputs.filter((i) => (i.lineage && first.lineage ? !sameLineage(i.lineage, first.lineage) : i.lineage !== first.lineage))
  if (!odd.length) return first.lineage
  const groups = new Map<string, { lineage: Lineage | undefined; files: string[] }>()
  for (const i of inputs) {
    const key = i.lineage ? `${i.lineage.extractId}\n${i.lineage.checksum}` : ''
    const g = groups.get(key) ?? { lineage: i.lineage, files: [] }
    g.files.push(basename(i.file))
    groups.set(key, g)
  }
  const list = [...groups.values()].map((g) => `${g.files.join(', ')} ${g.files.length > 1 ? 'are' : 'is'} of ${describeLineage(g.lineage)}`).join('; ')
  throw new EtlError('ETL_LINEAGE', `the stage files are of different extracts: ${list}; ${rerun}`, {
    details: { files: inputs.map((i) => ({ file: i.file, lineage: i.lineage ?? null })) },
  })
}
