/**
 * pgSource: rows leaving PostgreSQL as an object stream of batches, through
 * COPY ... TO STDOUT (csv) or a server-side cursor (pg-query-stream).
 *
 *     db (url | config | Pool | Client) --connect--> describe (LIMIT 0) --> COPY (csv bytes) --> CopyRows
 *                                                                        \-> cursor --read(batchSize)--> rows
 *         --> { columns, rows: Row[] } --push--> ...
 *
 * - COPY is twice as fast (copy-rows.ts): it is used when the source has no
 *   bound values and the connection is ours or a pool's (stopping a COPY early
 *   means closing its connection, which a caller's own Client must not see).
 *   Otherwise, or with `via: 'cursor'`, the cursor. Both give the same rows.
 * - The columns (name and PostgreSQL type) are known before the first row: they
 *   come from a `LIMIT 0` describe of the source, which also turns an unknown
 *   table or a bad query into a coded error before any stage file is opened.
 * - Backpressure reaches the cursor: a batch is fetched only when `_read` asks.
 * - Early stop and errors close the cursor and release the connection; a pool
 *   client is released *with* the error so pg discards a broken connection.
 */
import { Readable } from 'node:stream'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import QueryStream from 'pg-query-stream'
import { EtlError, invalidOption } from '../errors.ts'
import type { Batch, Column, Row } from '../types.ts'
import { keepLines } from '../csv/lines.ts'
import { connect, forceSession, type DbConfig } from './connect.ts'
import { CopyRows } from './copy-rows.ts'
import { identitySql, resolveIdentity, type IdentityRequest } from './identity.ts'
import { floatTextIsShortest, rawLineMaker } from './raw-lines.ts'
import { qualifiedName, sourceSql, type SourceSpec } from './relation.ts'
import { resolveTypeNames, typeParsers } from './types.ts'

/** Measured on this kind of machine: 1000 streams 1M rows ~1.5x faster than pg's default of 100 (bench/extract.ts). */
export const DEFAULT_BATCH_SIZE = 1000

export interface PgSourceOptions {
  /** Rows per cursor fetch and per emitted batch. Default 1000. */
  readonly batchSize?: number
  /** Aborting destroys the stream (and closes the cursor). */
  readonly signal?: AbortSignal
  /**
   * Keep each batch's CSV lines beside it (lib/csv/lines.ts), made from the
   * text PostgreSQL sent rather than formatted from the parsed values
   * (raw-lines.ts): a later csvTee / transform / sink reuses them. Only for a
   * pipeline in which no stage changes a row in place. Default false.
   */
  readonly keepLines?: boolean
  /**
   * `copy` or `cursor`. Default: `copy` when the source has no bound values and `db` is not a pg.Client, else
   * `cursor`; `copy` where it cannot be used is ETL_INVALID_OPTION.
   */
  readonly via?: 'copy' | 'cursor'
  /** Add a stable id column computed by PostgreSQL (identity.ts): the query is wrapped after the describe. */
  readonly identity?: IdentityRequest
}

export type PgSourceDb = string | DbConfig | pg.Pool | pg.Client

export interface PgSource extends Readable {
  /** Resolves with the columns before the first batch is pushed; rejects if the source cannot be opened. */
  readonly columns: Promise<readonly Column[]>
  /** Rows pushed so far. */
  readonly rowCount: number
}

interface Cursor {
  read(n: number, cb: (err: Error | undefined, rows: Row[]) => void): void
  close(cb: (err?: Error) => void): void
  /** The rows of the fetch under way (pg-cursor's internal). */
  _rows?: Row[] | null
}

/** What pg's client calls with each DataRow message (the QueryStream hands it to its cursor, which parses it into `_rows`). */
interface DataRowHandler {
  handleDataRow?: (msg: { fields: (string | null)[] }) => void
}

interface Held {
  client: pg.Client | pg.PoolClient
  release: (err?: Error) => Promise<void>
}

async function acquire(db: PgSourceDb): Promise<Held> {
  if (db instanceof pg.Pool) {
    const client = await db.connect()
    return { client, release: async (err) => client.release(err ?? false) }
  }
  if (db instanceof pg.Client) return { client: db, release: async () => {} }
  const config: DbConfig = typeof db === 'string' ? { connectionString: db } : db
  const client = await connect(config)
  return { client, release: async () => { await client.end().catch(() => {}) } }
}

const lostCodes = new Set(['57P01', '57P02', '57P03', '08006', '08003', '08000', 'ECONNRESET', 'EPIPE'])

/** The first `n` rows and lines of `reader` (taken out of it). */
function take(reader: CopyRows, n: number): [Row[], string[]] {
  const { rows, lines } = reader
  if (rows.length === n) {
    reader.rows = []
    reader.lines = []
    return [rows, lines]
  }
  reader.rows = rows.slice(n)
  reader.lines = lines.slice(n)
  rows.length = n
  if (lines.length > n) lines.length = n
  return [rows, lines]
}

/** Maps an error from a query or a cursor read to a coded EtlError. */
export function queryError(err: unknown, what: string): EtlError {
  if (err instanceof EtlError) return err
  const e = err as { code?: string; message?: string }
  const message = e?.message ?? String(err)
  if ((e?.code && lostCodes.has(e.code)) || /Connection terminated|connection.*(closed|ended)/i.test(message))
    return new EtlError('ETL_DB_CONNECTION_LOST', `the database connection was lost while reading ${what}: ${message}`, { cause: err })
  if (e?.code === '42P01') return new EtlError('ETL_UNKNOWN_TABLE', `${what}: ${message}`, { cause: err })
  return new EtlError('ETL_DB_QUERY', `reading ${what} failed: ${message}${e?.code ? ` (SQLSTATE ${e.code})` : ''}`, { cause: err, details: { sqlstate: e?.code } })
}

/** The columns of a described result, their types resolved by oid (types.ts). */
async function columnsOf(client: pg.ClientBase, fields: readonly pg.FieldDef[]): Promise<{ columns: Column[]; names: Map<number, string> }> {
  const names = await resolveTypeNames(client, fields.map((f) => f.dataTypeID))
  const columns = fields.map((f) => Object.freeze({ name: f.name, type: names.get(f.dataTypeID) ?? 'text' }))
  return { columns, names }
}

/**
 * A source every stage can carry: at least one column (a row of no fields cannot be a CSV record) and no name
 * twice (a stage file, a suite and the store know a column by its name). ETL_COLUMN_NAME.
 */
export function refuseColumns(columns: readonly Column[], what: string): void {
  if (!columns.length) throw new EtlError('ETL_COLUMN_NAME', `${what} has no columns: there is nothing to extract`)
  const seen = new Set<string>()
  for (const c of columns) {
    if (seen.has(c.name))
      throw new EtlError('ETL_COLUMN_NAME', `${what} has the column ${JSON.stringify(c.name)} twice: give each column its own name (\`AS ...\`)`, { details: { column: c.name } })
    seen.add(c.name)
  }
}

/**
 * Streams a table (`{table: 'schema.table'}`) or a query (`{query, values}`) as
 * batches of array rows. Emits `'columns'` (Column[]) before the first batch and
 * always pushes at least one batch (zero rows for an empty result).
 *
 * Errors: ETL_DB_CONNECT / ETL_DB_AUTH (connecting), ETL_UNKNOWN_TABLE,
 * ETL_COLUMN_NAME (no columns, or a name twice: refuseColumns),
 * ETL_DB_QUERY (the query fails), ETL_DB_CONNECTION_LOST (mid-stream).
 */
export function pgSource(db: PgSourceDb, spec: SourceSpec, options: PgSourceOptions = {}): PgSource {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidOption('batchSize', 'a positive integer', batchSize)
  const { text: sourceText, values } = sourceSql(spec)
  let text = sourceText
  const what = 'table' in spec ? `table ${spec.table}` : 'the source query'
  if (options.via !== undefined && options.via !== 'copy' && options.via !== 'cursor') throw invalidOption('via', '"copy" or "cursor"', options.via)
  const copyable = values.length === 0 && !(db instanceof pg.Client)
  if (options.via === 'copy' && !copyable)
    throw invalidOption('via', values.length ? '"cursor" for a query with bound values (COPY takes none)' : '"cursor" with a pg.Client (stopping a COPY early closes its connection)', options.via)
  const viaCopy = options.via !== 'cursor' && copyable

  let held: Held | undefined
  let cursor: Cursor | undefined
  let columns: readonly Column[] = []
  let sentFirst = false
  let rowCount = 0
  let lost = false // the connection died: closing the cursor would wait forever
  let lines: string[] | undefined // the CSV lines of the rows of the fetch under way (options.keepLines)
  let copy: { stream: Readable; rows: CopyRows; ended: boolean } | undefined
  const ready = Promise.withResolvers<readonly Column[]>()
  ready.promise.catch(() => {})

  const stream = new Readable({
    objectMode: true,
    highWaterMark: 1,
    signal: options.signal,
    construct(cb) {
      open().then(() => cb(), (err: unknown) => {
        const e = err instanceof EtlError ? err : queryError(err, what)
        ready.reject(e)
        cb(e)
      })
    },
    read() {
      if (copy) {
        copy.stream.resume()
        return
      }
      cursor!.read(batchSize, (err, rows) => {
        if (err) {
          stream.destroy(queryError(err, what))
        } else if (rows.length === 0 && sentFirst) {
          stream.push(null)
        } else {
          sentFirst = true
          rowCount += rows.length
          if (lines) {
            if (lines.length === rows.length) keepLines(rows, lines, columns)
            lines = []
          }
          stream.push({ columns, rows } satisfies Batch)
          if (rows.length < batchSize) stream.push(null)
        }
      })
    },
    destroy(err, cb) {
      const done = (closeErr?: Error | null) => {
        const failure = err ?? closeErr ?? undefined
        if (!columns.length) ready.reject(failure ?? new EtlError('ETL_ABORTED', 'source destroyed before it opened'))
        const release = held ? held.release(err ?? undefined) : Promise.resolve()
        held = undefined
        release.then(() => cb(err), () => cb(err))
      }
      if (err instanceof EtlError && err.code === 'ETL_DB_CONNECTION_LOST') lost = true
      if (copy && !copy.ended) {
        // A COPY cannot be stopped but by closing its connection: released with an error, a pool's client is
        // closed, and ending our own closes the socket of its active query.
        copy.stream.destroy()
        if (held) {
          const release = held.release
          held.release = () => release(err ?? new EtlError('ETL_ABORTED', 'the COPY was stopped before its end'))
        }
        done()
      } else if (cursor && !lost) {
        const c = cursor
        cursor = undefined
        c.close((closeErr) => done(closeErr))
      } else done()
    },
  }) as PgSource

  async function open(): Promise<void> {
    held = await acquire(db).catch((err: unknown) => {
      throw err instanceof EtlError ? err : queryError(err, what)
    })
    const client = held.client
    // While the stream holds the connection, a connection that dies between two reads (the cursor is
    // suspended, so no query callback would hear of it) is reported here and ends the stream.
    const onLost = (err: Error) => {
      lost = true
      stream.destroy(queryError(Object.assign(err, { code: (err as { code?: string }).code ?? 'ECONNRESET' }), what))
    }
    client.on('error', onLost)
    const release = held.release
    let restore: (() => Promise<void>) | undefined
    held.release = async (err) => {
      client.off('error', onLost)
      // A caller's connection gets its own settings back (not when broken: a pool discards it).
      if (restore && !err && !lost) await restore()
      await release(err)
    }
    // The settings that shape value text (connect.ts): ours from the startup options, a caller's set here.
    const session = await forceSession(client)
    restore = () => session.restore()
    if ('table' in spec) {
      const qualified = qualifiedName(spec.table)
      const { rows } = await client.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [qualified])
      if (!rows[0]?.r) throw new EtlError('ETL_UNKNOWN_TABLE', `table not found: ${spec.table} (looked up as ${qualified})`, { details: { table: spec.table } })
    }
    const described = await client.query({ text: `SELECT * FROM (${text}) AS etl_source LIMIT 0`, values })
    const resolved = await columnsOf(client, described.fields)
    refuseColumns(resolved.columns, what)
    columns = Object.freeze(resolved.columns)
    if (options.identity) {
      const key = await resolveIdentity(client, spec, columns, options.identity)
      ;({ text, columns } = identitySql(text, columns, key, options.identity.idColumn))
      options.identity.onKey?.(key)
    }
    const floatsOk = floatTextIsShortest(session.version)
    if (viaCopy) {
      startCopy(client, floatsOk)
      stream.emit('columns', columns)
      ready.resolve(columns)
      return
    }
    const onParseError = (err: unknown) => queueMicrotask(() => stream.destroy(err instanceof EtlError ? err : queryError(err, what)))
    const qs = new QueryStream(text, values, { rowMode: 'array', types: typeParsers(resolved.names, onParseError) })
    cursor = qs.cursor as Cursor
    if (options.keepLines) keepRawLines(qs as unknown as DataRowHandler, cursor, floatsOk)
    client.query(qs)
    stream.emit('columns', columns)
    ready.resolve(columns)
  }

  /** Streams the COPY output through CopyRows; the copy stream is paused while the batches wait (backpressure). */
  function startCopy(client: pg.ClientBase, floatsOk: boolean): void {
    const reader = new CopyRows(columns, floatsOk, options.keepLines === true)
    const source = client.query(copyTo(`COPY (SELECT * FROM (${text}) AS etl_source) TO STDOUT WITH (FORMAT csv)`)) as unknown as Readable
    const c = { stream: source, rows: reader, ended: false }
    copy = c
    source.pause()
    const send = (rows: Row[], lines: string[]): boolean => {
      sentFirst = true
      rowCount += rows.length
      if (options.keepLines) keepLines(rows, lines, columns)
      return stream.push({ columns, rows } satisfies Batch)
    }
    source.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk)
      } catch (err) {
        stream.destroy(err as Error)
        return
      }
      let more = true
      while (reader.rows.length >= batchSize) {
        const [rows, lines] = take(reader, batchSize)
        more = send(rows, lines)
      }
      if (!more) source.pause()
    })
    source.on('end', () => {
      c.ended = true
      try {
        reader.end()
      } catch (err) {
        stream.destroy(err as Error)
        return
      }
      if (reader.rows.length || !sentFirst) send(reader.rows, reader.lines)
      stream.push(null)
    })
    source.on('error', (err: Error) => {
      c.ended = true // the query failed: pg ends it (no COPY left to stop)
      stream.destroy(queryError(err, what))
    })
  }

  /** Makes each row's line as its DataRow message is parsed (skipped if pg-cursor's internals are not as expected). */
  function keepRawLines(qs: DataRowHandler, c: Cursor, floatsOk: boolean): void {
    const parse = qs.handleDataRow
    if (typeof parse !== 'function' || !('_rows' in c)) return
    const make = rawLineMaker(columns, floatsOk)
    lines = []
    qs.handleDataRow = (msg) => {
      parse(msg)
      const rows = c._rows!
      lines!.push(make(msg.fields, rows[rows.length - 1]!))
    }
  }

  Object.defineProperty(stream, 'columns', { value: ready.promise })
  Object.defineProperty(stream, 'rowCount', { get: () => rowCount })
  return stream
}
