/**
 * The upsert of the local feature store, one bucket at a time: rows are
 * spread over bucket files by a hash of their primary key, so a key lives in
 * the same bucket file in every load. While staging, the sink writes each
 * bucket's new records and, beside them, their keys (one line each). Merging
 * bucket i reads the new keys as sorted 8-byte hashes, streams the old bucket
 * file keeping the rows whose key has no new row, then appends the new
 * records: copied as they are when no key repeats (the usual case), else the
 * last row of each key at the place of its first. A bucket that is new (no
 * old file) and whose keys do not repeat is the staged file itself: it is
 * renamed, not copied. Reading and writing the files themselves is
 * store-files.ts.
 *
 * Memory: 8 bytes per new key of the bucket being merged (~1/16 of the load's
 * keys; the local sink merges two at a time), and strings only where hashes
 * meet; never the rows.
 */
import { open, rename } from 'node:fs/promises'
import { EtlError } from '../errors.ts'
import { appendFile, eachLine, eachRaw, eachRecord, exists, Out, syncFiles } from './store-files.ts'

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
    on(plain ? join53(a, b) : keyHash(lineKey(buf, start, end)), n)
  })
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
  return join53(a, b)
}

/** The two 32-bit hashes as one exact double: all of `a`, 21 bits of `b`. */
function join53(a: number, b: number): number {
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff)
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

/** A staged bucket file (header + records) that is the new bucket as it is: renamed into place. */
async function renameInto(incoming: string, out: string, sync: boolean): Promise<void> {
  await rename(incoming, out)
  if (sync) await syncFiles([out])
}

/** Buckets with at most this many new keys keep them as strings (one pass over the old rows); larger ones keep 8-byte hashes. */
const SMALL_BUCKET = 50_000

/** What merging one bucket did (the LoadReport figures of the bucket). */
export interface BucketFigures {
  /** Rows of the bucket afterwards, and before. */
  readonly rows: number
  readonly before: number
  readonly inserted: number
  readonly updated: number
  readonly unchanged: number
  readonly deleted: number
}

export interface MergeOptions {
  /** fsync `out` before resolving (default true); false leaves that to the caller (the local sink syncs all buckets at once). */
  readonly sync?: boolean
  /** How many keys the keys file holds, when known (the hashes are then allocated once, at their size). */
  readonly keys?: number
  /** With `keys`: no key repeats within the load (ids the caller generated): a new bucket is renamed without reading its keys. */
  readonly unique?: boolean
  /** merge (default): upsert on the key; append: add the rows; replace: the bucket holds exactly the new rows. */
  readonly write?: 'merge' | 'append' | 'replace'
  /** A column left out when a new row is compared with the old one (the event time the run stamps). */
  readonly ignore?: number
}

/**
 * A record's identity for "unchanged": its 53-bit hash and its length (a record equal in both is taken as the
 * same), field `ignore` (the event time a run stamps) left out.
 */
function recordSig(raw: string, ignore: number | undefined): string {
  if (ignore !== undefined) {
    let field = 0
    let start = 0
    let quoted = false
    for (let i = 0; i <= raw.length; i++) {
      const c = i < raw.length ? raw.charCodeAt(i) : 44
      if (quoted) {
        if (c === 34) quoted = raw.charCodeAt(i + 1) === 34 ? (i++, true) : false
        continue
      }
      if (c === 34) quoted = true
      else if (c === 44 || c === 10 || c === 13 || i === raw.length) {
        if (field === ignore) {
          raw = raw.slice(0, start) + raw.slice(i)
          break
        }
        field++
        start = i + 1
      }
    }
  }
  return `${keyHash(raw)}:${raw.length}`
}

/**
 * Writes `out` = header + (old rows whose key has no new row) + (new rows,
 * last one per key, at the place of the key's first). `incoming` holds
 * `header` and then the new records, `keys` their keys (keyLine per record);
 * `old` is a bucket file with its header (any may be missing). When there is
 * no `old` and no key repeats, `incoming` is renamed to `out`. Resolves to
 * the bucket's figures: a new row whose key had an old row is `updated`, or
 * `unchanged` when the two records are the same text but for column `ignore`
 * (then the old row stays as it was: a re-run of the same data changes nothing); `write: 'append'` adds
 * every new row (all `inserted`); `write: 'replace'` keeps no old row (those
 * whose key has no new row are `deleted`).
 *
 * Memory does not grow with the rows: the new keys are held as sorted 8-byte
 * hashes (as strings when the bucket is small). Keys are held as strings only
 * where hashes meet: keys that repeat within the load (with their last rows)
 * and new keys that replace old rows (found by a first pass over the old rows),
 * each with its position and, when it replaces an old row, that row's hash.
 */
export async function mergeBucket(incoming: string, keys: string, old: string, out: string, header: string, keyIdx: readonly number[], options: MergeOptions = {}): Promise<BucketFigures> {
  const write = options.write ?? 'merge'
  const ignore = options.ignore
  const hasOld = await exists(old)
  const sync = options.sync !== false
  const figures = (rows: number, before: number, inserted: number, updated = 0, unchanged = 0, deleted = 0): BucketFigures => ({ rows, before, inserted, updated, unchanged, deleted })
  if (write === 'append') return appendBucket(incoming, old, out, header, hasOld, sync)
  if (options.unique && options.keys !== undefined && !hasOld && (await exists(incoming))) {
    // No old rows and, as the caller knows, no key twice: the staged file is the bucket; its keys need not be read.
    await renameInto(incoming, out, sync)
    return figures(options.keys, 0, options.keys)
  }
  let hashes = new Float64Array(Math.max(1, options.keys ?? 4096)) // sized once when the caller knows the count (no grown copies)
  const hasKeys = await exists(keys)
  const fresh = hasKeys ? await eachKeyHash(keys, (h, n) => {
    if (n === hashes.length) {
      const grown = new Float64Array(n * 2)
      grown.set(hashes)
      hashes = grown
    }
    hashes[n] = h
  }) : 0
  const sorted = hashes.subarray(0, fresh).sort()

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
  const distinct = fresh - skip.size

  if (fresh && !hasOld && !lastOf.size) {
    await renameInto(incoming, out, sync)
    return figures(fresh, 0, fresh)
  }
  const file = await open(out, 'w')
  try {
    const o = new Out(file)
    let rows = 0
    let before = 0
    let matched = 0
    const same = new Set<number>() // positions of new rows equal to the old row of their key
    await o.write(header)
    if (hasOld) {
      // The new keys that may meet an old row, each with the position of its last row.
      const at = new Map<string, number>()
      if (fresh <= SMALL_BUCKET) {
        if (fresh) await eachKey(keys, (k, n) => void at.set(k, n))
      } else {
        // Which old keys may have a new row (their hash is among the new ones), then those new keys as strings.
        const hits = new Set<number>()
        await eachRecord(old, keyIdx, true, (k) => {
          const h = keyHash(k)
          if (holds(sorted, h)) hits.add(h)
        })
        if (hits.size) await eachKey(keys, (k, n) => void (hits.has(keyHash(k)) && at.set(k, n)))
      }
      const oldSig = new Map<number, string>() // position of the new row -> signature of the old row it replaces
      await eachRecord(old, keyIdx, true, async (k, raw) => {
        before++
        const n = at.get(k)
        if (n !== undefined) {
          matched++
          oldSig.set(n, recordSig(raw, ignore))
          return
        }
        if (write === 'replace') return
        await o.write(raw)
        rows++
      })
      // A new row equal to the old one (the event time the run stamps aside) leaves the old row as it was.
      if (oldSig.size) await eachRaw(incoming, true, (raw, n) => void (oldSig.get(n) === recordSig(raw, ignore) && same.add(n)))
      if (same.size) {
        const keepKeys = new Set<string>()
        for (const [k, n] of at) if (same.has(n)) keepKeys.add(k)
        await eachRecord(old, keyIdx, true, async (k, raw) => {
          if (!keepKeys.has(k)) return
          await o.write(raw)
          rows++
        })
      }
    }
    if (fresh && !lastOf.size && !same.size) {
      await o.flush()
      await appendFile(file, incoming, Buffer.byteLength(header))
      rows += fresh
    } else if (fresh) {
      // Some key repeats within the load: its last row wins, at the place of its first (as a Map's set() keeps it).
      const lasts = new Set(lastOf.values())
      const lastRaw = new Map<number, string>()
      if (lasts.size) await eachRaw(incoming, true, (raw, n) => void (lasts.has(n) && lastRaw.set(n, raw)))
      let records = 0
      await eachRaw(incoming, true, async (raw, n) => {
        records++
        if (skip.has(n)) return
        const last = lastOf.get(n)
        if (same.has(last ?? n)) return
        await o.write(last === undefined ? raw : lastRaw.get(last)!)
        rows++
      })
      if (records !== fresh) throw new EtlError('ETL_DATA_DIR', `${incoming} holds ${records} records but ${keys} ${fresh} keys`)
    }
    await o.flush()
    if (sync) await file.sync()
    const deleted = write === 'replace' ? before - matched : 0
    return figures(rows, before, distinct - matched, matched - same.size, same.size, deleted)
  } finally {
    await file.close()
  }
}

/** write: 'append': the old rows (counted), then every new row. */
async function appendBucket(incoming: string, old: string, out: string, header: string, hasOld: boolean, sync: boolean): Promise<BucketFigures> {
  const hasNew = await exists(incoming)
  let fresh = 0
  if (hasNew) await eachRaw(incoming, true, () => void fresh++)
  if (!hasOld && hasNew) {
    await renameInto(incoming, out, sync)
    return { rows: fresh, before: 0, inserted: fresh, updated: 0, unchanged: 0, deleted: 0 }
  }
  const file = await open(out, 'w')
  try {
    const o = new Out(file)
    let before = 0
    await o.write(header)
    if (hasOld) await eachRaw(old, true, async (raw) => {
      before++
      await o.write(raw)
    })
    await o.flush()
    if (hasNew) await appendFile(file, incoming, Buffer.byteLength(header))
    if (sync) await file.sync()
    return { rows: before + fresh, before, inserted: fresh, updated: 0, unchanged: 0, deleted: 0 }
  } finally {
    await file.close()
  }
}
