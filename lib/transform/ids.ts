/**
 * The three ways to make a row's id.
 *
 * - nanoid: 21 random URL-safe characters (126 bits), ~0.15 µs.
 * - sequential: start, start + 1, ... in stream order.
 * - derived from the source (the default of the pipelines): PostgreSQL makes
 *   the id in the source query from its own text of the key (identity.ts),
 *   and it arrives as the input's last column.
 * - derived from `key` here: sha256 of a canonical encoding of the key values, base64url,
 *   first 22 characters (132 bits). Same source row, same id, on every run and
 *   whether the row comes from PostgreSQL or back from a stage CSV (both give
 *   the same values, see lib/extract/types.ts), so a re-run upserts.
 */
import { hash, randomFillSync } from 'node:crypto'
import { urlAlphabet } from 'nanoid'
import { jsonText } from '../csv/format.ts'
import { EtlError } from '../errors.ts'
import type { Row } from '../types.ts'
import type { IdStrategy } from './options.ts'

const ID_LENGTH = 21
/** Ids made per refill of the random pool. */
const POOL_IDS = 2048
const alphabet = Buffer.from(urlAlphabet, 'latin1')
const pool = Buffer.allocUnsafe(ID_LENGTH * POOL_IDS)
let poolText = ''
let poolAt = ID_LENGTH * POOL_IDS

/**
 * nanoid(): 21 characters of nanoid's URL alphabet, each from one random byte
 * (`& 63`, the alphabet has 64 characters), as nanoid does; but the pool of
 * random bytes becomes text in one step and each id is a slice of it. nanoid
 * builds an id a character at a time (~20 string pieces, ~600 bytes of
 * garbage a row, measured with the sampling heap profiler on `etl run`).
 */
export function nanoid(): string {
  if (poolAt + ID_LENGTH > pool.length) {
    randomFillSync(pool)
    for (let i = 0; i < pool.length; i++) pool[i] = alphabet[pool[i]! & 63]!
    poolText = pool.toString('latin1')
    poolAt = 0
  }
  const id = poolText.slice(poolAt, poolAt + ID_LENGTH)
  poolAt += ID_LENGTH
  return id
}

/** Makes the id of a row; `n` is the row's number in the input stream (from 0), for error messages. */
export type IdMaker = (row: Row, n: number) => string | number

/**
 * The canonical text of key values: the JSON array text, except that numbers
 * are written by String() so NaN and ±Infinity stay apart from null (JSON
 * would write all three as null), and inside arrays and JSON values too (jsonText: "NaN", "Infinity", -0, and
 * JSON numbers as PostgreSQL wrote them). Types stay apart: 1 is `1`, "1" is `"1"`.
 */
export function keyText(values: readonly unknown[]): string {
  let out = '['
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ','
    const v = values[i]
    out += typeof v === 'number' || typeof v === 'bigint' ? String(v) : jsonText(v)
  }
  return out + ']'
}

/** The derived id of key values (22 base64url characters). */
export function derivedId(values: readonly unknown[]): string {
  return hash('sha256', keyText(values), 'base64url').slice(0, 22)
}

/**
 * The id maker of a strategy. `keyIndexes`/`keyNames` name the key columns of
 * `derived`; a NULL key value throws ETL_TRANSFORM (the data, not the options,
 * is at fault: choose key columns that are never NULL, or drop such rows with
 * the missing-value policy).
 */
export function idMaker(strategy: IdStrategy, start: number, keyIndexes: readonly number[], keyNames: readonly string[], fromInput = false): IdMaker {
  if (strategy === 'nanoid') return () => nanoid()
  if (strategy === 'sequential') {
    let next = start
    return () => next++
  }
  if (fromInput) {
    // The source made the id (lib/extract/identity.ts); it is NULL where a --key column was NULL.
    const at = keyIndexes[0]!
    return (row, n) => {
      const v = row[at]
      if (typeof v === 'string' && v !== '') return v
      const which = keyNames.length === 1 ? `key column ${JSON.stringify(keyNames[0])} is` : `a key column (${keyNames.join(', ')}) is`
      throw new EtlError(
        'ETL_TRANSFORM',
        `row ${n + 1}: ${which} NULL, so no derived id can be made; ` +
          'choose key columns that are never NULL (--key), filter such rows out in the source (--query), or use --id nanoid',
        { details: { row: n + 1, columns: keyNames } },
      )
    }
  }
  const values: unknown[] = new Array<unknown>(keyIndexes.length)
  return (row, n) => {
    for (let k = 0; k < keyIndexes.length; k++) {
      const v = row[keyIndexes[k]!]
      if (v === null || v === undefined)
        throw new EtlError(
          'ETL_TRANSFORM',
          `row ${n + 1}: key column ${JSON.stringify(keyNames[k])} is NULL, so no derived id can be made; ` +
            `choose key columns that are never NULL (--key), drop such rows (missing policy "drop" on ${keyNames[k]}), or use --id nanoid`,
          { details: { row: n + 1, column: keyNames[k] } },
        )
      values[k] = v
    }
    return derivedId(values)
  }
}
