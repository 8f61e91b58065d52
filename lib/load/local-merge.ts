/**
 * The upsert of the local feature store, one bucket at a time: rows are
 * spread over bucket files by a hash of their primary key, so a key lives in
 * the same bucket file in every load. While staging, the sink writes each
 * bucket's new records and, beside them, their keys (one line each). Merging
 * bucket i reads the new keys into a Map (key -> first position), streams the
 * old bucket file keeping the rows whose key is not in the Map, then appends
 * the new records: copied as they are when no key repeats (the usual case),
 * else the last row of each key at the place of its first.
 *
 * Memory: the keys of one bucket of the new load (~1/16 of its keys, about
 * 80 bytes each), never its rows; old and new records are streamed.
 */
import { createReadStream } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { EtlError } from '../errors.ts'

/**
 * Bytes per read or write buffer of the merge. Each is allocated afresh per
 * file and freed only when the garbage collector runs, which a small heap
 * seldom does: 16 buckets x a few 1 MiB buffers showed as 30 MB of RSS at the
 * end of a run. 256 KiB reads as fast for sequential files.
 */
const IO_BUFFER = 256 * 1024

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
 * The key of a row as the merge reads it back from the stored CSV (each key
 * field's text, unquoted): `key` (keyOf's) itself, except for a Date, which
 * the CSV holds as ISO text and keyOf as JSON.
 */
export function recordKeyOf(values: readonly unknown[], keyIdx: readonly number[], key: string): string {
  for (let j = 0; j < keyIdx.length; j++) {
    if (values[keyIdx[j]!] instanceof Date) {
      let k = ''
      for (let m = 0; m < keyIdx.length; m++) {
        const v = values[keyIdx[m]!]
        k += (m ? '\u0001' : '') + (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v))
      }
      return k
    }
  }
  return key
}

/** A key as one line of a keys file: as it is, or as JSON text when it holds a line break or starts with a quote. */
export function keyLine(key: string): string {
  return key.charCodeAt(0) === 34 || key.includes('\n') || key.includes('\r') ? JSON.stringify(key) : key
}

/**
 * Calls `on` for each line of a file (the bytes from `start` to `end`, the
 * line break excluded), reading through one reused buffer (a stream would
 * allocate a new buffer per chunk, freed only when the garbage collector gets
 * round to it). Returns the number of lines.
 */
async function eachLine(path: string, on: (buf: Buffer, start: number, end: number, n: number) => void): Promise<number> {
  const file = await open(path, 'r')
  try {
    let buf = Buffer.allocUnsafe(IO_BUFFER)
    let have = 0
    let n = 0
    for (;;) {
      if (have === buf.length) {
        const grown = Buffer.allocUnsafe(buf.length * 2) // a line longer than the buffer
        buf.copy(grown, 0, 0, have)
        buf = grown
      }
      const { bytesRead } = await file.read(buf, have, buf.length - have, null)
      if (bytesRead === 0) break
      have += bytesRead
      const view = buf.subarray(0, have)
      let start = 0
      for (let end = view.indexOf(10, start); end !== -1; end = view.indexOf(10, start)) {
        on(buf, start, end, n++)
        start = end + 1
      }
      buf.copy(buf, 0, start, have)
      have -= start
    }
    if (have) throw new EtlError('ETL_DATA_DIR', `${path} ends inside a key line`)
    return n
  } finally {
    await file.close()
  }
}

/** A key line (keyLine) back to its key. */
function lineKey(buf: Buffer, start: number, end: number): string {
  const line = buf.toString('utf8', start, end)
  return line.charCodeAt(0) === 34 ? (JSON.parse(line) as string) : line
}

/** Streams the keys of a keys file (keyLine per line), with their position. */
async function eachKey(path: string, on: (key: string, n: number) => void): Promise<number> {
  return eachLine(path, (buf, start, end, n) => on(lineKey(buf, start, end), n))
}

/**
 * Streams the keyHash of each key of a keys file, with its position. A plain
 * ASCII line is hashed from its bytes (they are the key's UTF-16 code units),
 * so no string is made for it; other lines are decoded first.
 */
async function eachKeyHash(path: string, on: (hash: number, n: number) => void): Promise<number> {
  return eachLine(path, (buf, start, end, n) => {
    let a = 0x811c9dc5
    let b = 0x9747b28c
    let plain = buf[start] !== 34
    for (let i = start; plain && i < end; i++) {
      const c = buf[i]!
      if (c >= 128) plain = false
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(b ^ c, 0x5bd1e995)
      b ^= b >>> 15
    }
    on(plain ? (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff) : keyHash(lineKey(buf, start, end)), n)
  })
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
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: IO_BUFFER })) {
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
    if (this.#len >= IO_BUFFER) await this.flush()
  }
  async flush(): Promise<void> {
    if (!this.#len) return
    const text = this.#buf.join('')
    this.#buf = []
    this.#len = 0
    await this.#file.write(text)
  }
}

/** Streams the records of a file without reading their keys (`n` counts from 0). */
async function eachRaw(path: string, on: (raw: string, n: number) => void | Promise<void>): Promise<void> {
  let n = 0
  return eachRecord(path, [], false, (_k, raw) => on(raw, n++))
}

/**
 * Two 32-bit hashes of a key (FNV-1a and a multiplicative one) as one exact
 * double of 53 bits: equal keys, equal hashes; distinct keys collide rarely,
 * and a collision only costs a closer look, never a wrong merge.
 */
export function keyHash(key: string): number {
  let a = 0x811c9dc5
  let b = 0x9747b28c
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
    b ^= b >>> 15
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff)
}

/**
 * Appends the whole of file `path` to `out`, through one reused buffer: a
 * stream would allocate a new 1 MiB buffer per chunk, freed only when the
 * garbage collector gets round to it (tens of MB of RSS on a big bucket).
 */
async function appendFile(out: FileHandle, path: string): Promise<void> {
  const input = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(IO_BUFFER)
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, buf.length, null)
      if (bytesRead === 0) return
      await out.write(buf, 0, bytesRead)
    }
  } finally {
    await input.close()
  }
}

/** Whether sorted `hashes` holds `h`. */
function holds(hashes: Float64Array, h: number): boolean {
  let lo = 0
  let hi = hashes.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = hashes[mid]!
    if (v === h) return true
    if (v < h) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/** Buckets with at most this many new keys keep them as strings (one pass over the old rows); larger ones keep 8-byte hashes. */
const SMALL_BUCKET = 50_000

/**
 * Writes `out` = header + (old rows whose key has no new row) + (new rows,
 * last one per key, at the place of the key's first). `incoming` holds
 * header-less records and `keys` their keys (keyLine per record); `old` is a
 * bucket file with its header (any may be missing). Resolves to the row count.
 * `sync` (default true): fsync `out` before resolving; false leaves that to
 * the caller (the local sink syncs all buckets at once, in parallel).
 *
 * Memory does not grow with the rows: the new keys are held as sorted 8-byte
 * hashes (as strings when the bucket is small). Keys are held as strings only
 * where hashes meet: keys that repeat within the load (with their last rows)
 * and new keys that replace old rows (found by a first pass over the old rows).
 */
export async function mergeBucket(incoming: string, keys: string, old: string, out: string, header: string, keyIdx: readonly number[], options: { readonly sync?: boolean } = {}): Promise<number> {
  let hashes = new Float64Array(4096)
  const hasKeys = await exists(keys)
  const hasOld = await exists(old)
  const fresh = hasKeys ? await eachKeyHash(keys, (h, n) => {
    if (n === hashes.length) {
      const grown = new Float64Array(n * 2)
      grown.set(hashes)
      hashes = grown
    }
    hashes[n] = h
  }) : 0
  const sorted = hashes.subarray(0, fresh).sort()
  // Old rows to filter and few new keys: the keys themselves, for one pass over the old rows.
  let small: Set<string> | undefined
  if (hasOld && fresh <= SMALL_BUCKET) {
    const set = new Set<string>()
    if (fresh) await eachKey(keys, (k) => void set.add(k))
    small = set
  }

  // Keys that repeat within the load: their hashes meet (or two keys collide; the strings tell).
  let suspects: Set<number> | undefined
  for (let i = 1; i < fresh; i++) if (sorted[i] === sorted[i - 1]) (suspects ??= new Set()).add(sorted[i]!)
  const lastOf = new Map<number, number>() // first position of a repeated key -> its last position
  const skip = new Set<number>() // the other positions of repeated keys
  if (suspects) {
    const seen = new Map<string, number[]>()
    await eachKey(keys, (k, n) => {
      if (!suspects.has(keyHash(k))) return
      const at = seen.get(k)
      if (at) at.push(n)
      else seen.set(k, [n])
    })
    for (const at of seen.values()) {
      if (at.length < 2) continue
      lastOf.set(at[0]!, at[at.length - 1]!)
      for (let j = 1; j < at.length; j++) skip.add(at[j]!)
    }
  }

  const file = await open(out, 'w')
  try {
    const o = new Out(file)
    let rows = 0
    await o.write(header)
    if (hasOld) {
      let replaced = small
      if (!replaced) {
        // Which old keys may have a new row (their hash is among the new ones), then those new keys as strings.
        const hits = new Set<number>()
        await eachRecord(old, keyIdx, true, (k) => {
          const h = keyHash(k)
          if (holds(sorted, h)) hits.add(h)
        })
        const exact = new Set<string>()
        if (hits.size) await eachKey(keys, (k) => void (hits.has(keyHash(k)) && exact.add(k)))
        replaced = exact
      }
      const drop = replaced
      await eachRecord(old, keyIdx, true, async (k, raw) => {
        if (drop.has(k)) return
        await o.write(raw)
        rows++
      })
    }
    if (fresh && !lastOf.size) {
      await o.flush()
      await appendFile(file, incoming)
      rows += fresh
    } else if (fresh) {
      // Some key repeats within the load: its last row wins, at the place of its first (as a Map's set() keeps it).
      const lasts = new Set(lastOf.values())
      const lastRaw = new Map<number, string>()
      await eachRaw(incoming, (raw, n) => void (lasts.has(n) && lastRaw.set(n, raw)))
      let records = 0
      await eachRaw(incoming, async (raw, n) => {
        records++
        if (skip.has(n)) return
        const last = lastOf.get(n)
        await o.write(last === undefined ? raw : lastRaw.get(last)!)
        rows++
      })
      if (records !== fresh) throw new EtlError('ETL_DATA_DIR', `${incoming} holds ${records} records but ${keys} ${fresh} keys`)
    }
    await o.flush()
    if (options.sync !== false) await file.sync()
    return rows
  } finally {
    await file.close()
  }
}

/** fsyncs files, all at once (the writes are done; the disk flushes them in parallel). */
export async function syncFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      const file = await open(path, 'r+')
      try {
        await file.sync()
      } finally {
        await file.close()
      }
    }),
  )
}
