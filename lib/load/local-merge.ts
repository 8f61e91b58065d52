/**
 * The upsert of the local feature store, one bucket at a time: rows are
 * spread over bucket files by a hash of their primary key, so a key lives in
 * the same bucket file in every load. Merging bucket i reads the new rows of
 * bucket i into a Map (key -> CSV record; the last row of a key wins), streams
 * the old bucket file keeping the rows whose key is not in the Map, then
 * writes the Map. Memory: one bucket of the *new* load; the old data is streamed.
 */
import { createReadStream } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { EtlError } from '../errors.ts'

/** FNV-1a, 32 bits: a stable bucket for a key string. */
export function bucketOf(key: string, buckets: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % buckets
}

/** The key string of a row (primary key columns joined by U+0001). NULL keys are refused, as Hopsworks refuses them. */
export function keyOf(values: readonly unknown[], keyIdx: readonly number[], what: () => string): string {
  let key = ''
  for (let j = 0; j < keyIdx.length; j++) {
    const v = values[keyIdx[j]!]
    if (v === null || v === undefined) throw new EtlError('ETL_SINK', `primary key ${what()} is NULL in a row; the feature store needs a key on every row`)
    key += (j ? '\u0001' : '') + (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v))
  }
  return key
}

/**
 * Splits CSV text (RFC 4180, as lib/csv/format.ts writes it) into records,
 * calling `on(key, raw)` for each complete one: `raw` is the record with its
 * line break, `key` the primary key fields (unquoted) joined by U+0001.
 * Returns where the unfinished tail starts (text.length when there is none).
 * Hand-written rather than csv-parse: the merge touches every stored row, and
 * this does only what it needs (find record ends, read the key fields).
 */
export function scanRecords(text: string, keyIdx: readonly number[], on: (key: string, raw: string) => void): number {
  const wanted = new Map(keyIdx.map((k, j) => [k, j]))
  const parts: string[] = new Array(keyIdx.length).fill('')
  let start = 0
  let field = 0
  let fieldStart = 0
  let quoted = false
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (quoted) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++
        else quoted = false
      }
      continue
    }
    if (c === 34) quoted = true
    else if (c === 44 || c === 10) {
      const j = wanted.get(field)
      if (j !== undefined) {
        const f = text.slice(fieldStart, c === 10 && text.charCodeAt(i - 1) === 13 ? i - 1 : i)
        parts[j] = f.charCodeAt(0) === 34 ? f.slice(1, -1).replaceAll('""', '"') : f
      }
      if (c === 44) {
        field++
        fieldStart = i + 1
      } else {
        on(parts.join('\u0001'), text.slice(start, i + 1))
        start = fieldStart = i + 1
        field = 0
      }
    }
  }
  return start
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** Streams the records of a file (skipping its header line when asked). */
async function eachRecord(path: string, keyIdx: readonly number[], skipHeader: boolean, on: (key: string, raw: string) => void | Promise<void>): Promise<void> {
  let tail = ''
  let header = skipHeader
  const pending: [string, string][] = []
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = tail + (chunk as string)
    const used = scanRecords(text, keyIdx, (k, raw) => {
      if (header) header = false
      else pending.push([k, raw])
    })
    tail = text.slice(used)
    for (const [k, raw] of pending) await on(k, raw)
    pending.length = 0
  }
  if (tail) throw new EtlError('ETL_DATA_DIR', `${path} ends inside a record (an unterminated line or quote)`)
}

/** Buffered appends to a file handle. */
class Out {
  readonly #file: FileHandle
  #buf: string[] = []
  #len = 0
  constructor(file: FileHandle) {
    this.#file = file
  }
  async write(s: string): Promise<void> {
    this.#buf.push(s)
    this.#len += s.length
    if (this.#len >= 1 << 20) await this.flush()
  }
  async flush(): Promise<void> {
    if (!this.#len) return
    const text = this.#buf.join('')
    this.#buf = []
    this.#len = 0
    await this.#file.write(text)
  }
}

/**
 * Writes `out` = header + (old rows whose key has no new row) + (new rows,
 * last one per key). `incoming` holds header-less records; `old` is a bucket
 * file with its header (either may be missing). Resolves to the row count.
 */
export async function mergeBucket(incoming: string, old: string, out: string, header: string, keyIdx: readonly number[]): Promise<number> {
  const fresh = new Map<string, string>()
  if (await exists(incoming)) await eachRecord(incoming, keyIdx, false, (k, raw) => void fresh.set(k, raw))
  const file = await open(out, 'w')
  try {
    const o = new Out(file)
    let rows = 0
    await o.write(header)
    if (await exists(old)) {
      await eachRecord(old, keyIdx, true, async (k, raw) => {
        if (fresh.has(k)) return
        await o.write(raw)
        rows++
      })
    }
    for (const raw of fresh.values()) {
      await o.write(raw)
      rows++
    }
    await o.flush()
    await file.sync()
    return rows
  } finally {
    await file.close()
  }
}
