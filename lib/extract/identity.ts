/**
 * Stable row ids computed by PostgreSQL in the source query (`--id derived`,
 * the default): the same source row gets the same id on every run, so a
 * re-run merges onto the rows it loaded before instead of adding them again.
 *
 *     key columns (primary key, or --key)   id = sha256(ROW(k1, k2, ...)::text)
 *     no key                                id = sha256(<row>::text || '#' || n), n = row_number() among identical rows
 *
 * The id is the first 22 characters of the hash in base64url (132 bits). It
 * is made from PostgreSQL's own text output of the values (a record's text
 * form quotes and separates every field, NULL is an empty field, "" a quoted
 * one), never from a JavaScript value: a json number past 2^53 or a numeric
 * of 30 digits keeps every digit. The query adds the id as a last column named
 * after the id column; the transform passes it through (lib/transform).
 *
 * Memory stays bounded on any table: with a key, the hash is a per-row
 * expression; without one, the occurrence number is a window over the row
 * text, which PostgreSQL sorts within work_mem and spills to disk beyond it.
 * The text form of some types follows session settings (DateStyle, TimeZone,
 * extra_float_digits, IntervalStyle): ids are stable between runs of the same
 * settings, which lib/extract/connect.ts fixes per session.
 */
import type pg from 'pg'
import { EtlError } from '../errors.ts'
import type { Column } from '../types.ts'
import { qualifiedName, quoteIdent, type SourceSpec } from './relation.ts'

/** What the ids of a run are made from. */
export interface IdentityKey {
  /** `primary-key`: the table's primary key (catalog); `key`: the columns the user named (--key); `row`: every column + the occurrence number. */
  readonly kind: 'primary-key' | 'key' | 'row'
  /** The source columns of the key (for `row`: every column). */
  readonly columns: readonly string[]
}

/** What pgSource needs to add the id column (PgSourceOptions.identity). */
export interface IdentityRequest {
  /** Name of the id column added last (the transform's idColumn, default user_id). */
  readonly idColumn: string
  /** Key columns chosen by the user (--key); else the table's primary key, else the whole row. */
  readonly key?: readonly string[] | undefined
  /** An identity already resolved (by a coordinator for its workers): used as it is, no catalog lookup. */
  readonly resolved?: IdentityKey | undefined
  /** Told which key was used, before the first row. */
  readonly onKey?: ((key: IdentityKey) => void) | undefined
}

/** The primary key columns of a table, in key order ([] when it has none, or it is not a table). */
export async function primaryKeyOf(client: pg.ClientBase, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [qualifiedName(table)],
  )
  return rows.map((r) => r.name)
}

/** Which key the ids of `spec` come from: the user's, else a table's primary key, else the whole row. */
export async function resolveIdentity(client: pg.ClientBase, spec: SourceSpec, columns: readonly Column[], request: Pick<IdentityRequest, 'key' | 'resolved'>): Promise<IdentityKey> {
  if (request.resolved) return request.resolved
  if (request.key?.length) return { kind: 'key', columns: [...request.key] }
  const pk = 'table' in spec ? await primaryKeyOf(client, spec.table) : []
  if (pk.length) return { kind: 'primary-key', columns: pk }
  return { kind: 'row', columns: columns.map((c) => c.name) }
}

/** `base64url(sha256(text))[0:22]` in SQL. */
function hashSql(textSql: string): string {
  return `substr(translate(encode(sha256(convert_to(${textSql}, 'UTF8')), 'base64'), '+/', '-_'), 1, 22)`
}

/** A short description for messages, the run record and the docs: `primary key (id)`, `key (a, b)`, `every column + occurrence`. */
export function describeIdentity(key: IdentityKey): string {
  if (key.kind === 'row') return 'every column + occurrence number (the source has no primary key)'
  return `${key.kind === 'primary-key' ? 'primary key' : '--key'} (${key.columns.join(', ')})`
}

/**
 * The source query with the id column added last, and its columns. Throws
 * ETL_INVALID_OPTION (a key column the source does not have) and
 * ETL_COLUMN_NAME (the source already has a column named like the id column).
 */
export function identitySql(text: string, columns: readonly Column[], key: IdentityKey, idColumn: string): { text: string; columns: readonly Column[] } {
  const clash = columns.find((c) => c.name.toLowerCase() === idColumn)
  if (clash)
    throw new EtlError(
      'ETL_COLUMN_NAME',
      `the source already has a column ${JSON.stringify(clash.name)}, which clashes with the id column ${JSON.stringify(idColumn)} the transform adds; ` +
        'give the new column another name with the idColumn option ("idColumn" in etl.config.json), or rename the source column',
      { details: { column: clash.name, option: 'idColumn' } },
    )
  const names = columns.map((c) => c.name)
  for (const k of key.columns)
    if (!names.includes(k)) {
      const lower = names.find((n) => n.toLowerCase() === k.toLowerCase())
      throw new EtlError('ETL_INVALID_OPTION', `Invalid option key: no column ${JSON.stringify(k)}${lower ? ` (did you mean ${JSON.stringify(lower)}?)` : ''}; the columns are ${names.join(', ')}`, {
        details: { option: 'key', column: k },
      })
    }
  const id = quoteIdent(idColumn)
  let sql: string
  if (key.kind === 'row') {
    sql =
      `SELECT (etl_i.etl_r).*, ${hashSql(`etl_i.etl_t || '#' || etl_i.etl_n`)} AS ${id} FROM ` +
      `(SELECT etl_source AS etl_r, etl_source::text AS etl_t, row_number() OVER (PARTITION BY etl_source::text) AS etl_n FROM (${text}) AS etl_source) AS etl_i`
  } else {
    const cols = key.columns.map((k) => `etl_source.${quoteIdent(k)}`)
    // A NULL key value gives a NULL id, which the transform refuses with the row's number (ETL_TRANSFORM).
    sql = `SELECT etl_source.*, CASE WHEN ${cols.map((c) => `${c} IS NULL`).join(' OR ')} THEN NULL ELSE ${hashSql(`ROW(${cols.join(', ')})::text`)} END AS ${id} FROM (${text}) AS etl_source`
  }
  return { text: sql, columns: Object.freeze([...columns, Object.freeze({ name: idColumn, type: 'text' })]) }
}
