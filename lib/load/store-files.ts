/**
 * Reading and writing the local store's files (local-merge.ts merges them):
 * lines and CSV records streamed through reused buffers, buffered appends,
 * and fsync of many files at once. Buffers are reused on purpose: a stream
 * allocates a new one per chunk, freed only when the garbage collector gets
 * round to it, which showed as tens of MB of RSS at the end of a run.
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
export const IO_BUFFER = 256 * 1024

/**
 * Calls `on` for each line of a file (the bytes from `start` to `end`, the
 * line break excluded), reading through one reused buffer (a stream would
 * allocate a new buffer per chunk, freed only when the garbage collector gets
 * round to it). Returns the number of lines.
 */
export async function eachLine(path: string, on: (buf: Buffer, start: number, end: number, n: number) => void): Promise<number> {
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

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** Streams the records of a file (skipping its header line when asked). */
export async function eachRecord(path: string, keyIdx: readonly number[], skipHeader: boolean, on: (key: string, raw: string) => void | Promise<void>): Promise<void> {
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
export class Out {
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

/** Streams the records of a file without reading their keys (`n` counts from 0; the header, when skipped, is not counted). */
export async function eachRaw(path: string, skipHeader: boolean, on: (raw: string, n: number) => void | Promise<void>): Promise<void> {
  let n = 0
  return eachRecord(path, [], skipHeader, (_k, raw) => on(raw, n++))
}

/**
 * Appends file `path` from byte `from` (default 0) to `out`, through one
 * reused buffer: a stream would allocate a new 1 MiB buffer per chunk, freed
 * only when the garbage collector gets round to it (tens of MB of RSS on a
 * big bucket).
 */
export async function appendFile(out: FileHandle, path: string, from = 0): Promise<void> {
  const input = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(IO_BUFFER)
    for (let at = from; ; ) {
      const { bytesRead } = await input.read(buf, 0, buf.length, at)
      at += bytesRead
      if (bytesRead === 0) return
      await out.write(buf, 0, bytesRead)
    }
  } finally {
    await input.close()
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
