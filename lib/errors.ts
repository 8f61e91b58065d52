/**
 * Every error the library throws on purpose is an EtlError with a stable code.
 * The README lists every code (a test checks that it does). Messages never
 * carry secrets: build them with `redact()` / `stripUrlAuth()`.
 */

export type EtlErrorCode =
  | 'ETL_USAGE'
  | 'ETL_CONFIG'
  | 'ETL_INVALID_OPTION'
  | 'ETL_DB_CONNECT'
  | 'ETL_DB_AUTH'
  | 'ETL_DB_QUERY'
  | 'ETL_DB_CONNECTION_LOST'
  | 'ETL_UNKNOWN_TABLE'
  | 'ETL_EMBEDDED_PG'
  | 'ETL_INPUT'
  | 'ETL_SUITE'
  | 'ETL_EXPECTATION'
  | 'ETL_COLUMN_NAME'
  | 'ETL_TRANSFORM'
  | 'ETL_DATA_DIR'
  | 'ETL_QUALITY_GATE'
  | 'ETL_META_VALIDATION'
  | 'ETL_SINK'
  | 'ETL_HOPSWORKS'
  | 'ETL_HOPSWORKS_AUTH'
  | 'ETL_HOPSWORKS_SCHEMA'
  | 'ETL_HOPSWORKS_JOB'
  | 'ETL_TIMEOUT'
  | 'ETL_ABORTED'
  | 'ETL_CANCELLED'
  | 'ETL_WEBHOOK'
  | 'ETL_QUEUE'
  | 'ETL_PARTITION'
  | 'ETL_LOCKED'
  | 'ETL_DISK_FULL'
  | 'ETL_STORE_INTEGRITY'
  | 'ETL_LINEAGE'
  | 'ETL_RECONCILE'
  | 'ETL_INTERNAL'

/** The exit code of `etl` for each error code: 2 usage/configuration, 3 quality gate, 1 anything else. */
export function exitCodeOf(code: EtlErrorCode): 1 | 2 | 3 {
  switch (code) {
    case 'ETL_USAGE':
    case 'ETL_CONFIG':
    case 'ETL_INVALID_OPTION':
    case 'ETL_SUITE':
    case 'ETL_COLUMN_NAME':
    case 'ETL_UNKNOWN_TABLE':
    case 'ETL_DATA_DIR':
    case 'ETL_INPUT':
    case 'ETL_LINEAGE':
      return 2
    case 'ETL_QUALITY_GATE':
    case 'ETL_META_VALIDATION':
      return 3
    default:
      return 1
  }
}

/** What kind of failure a code is, for notifications: fix the setup, try again later, look at the data, or a fault of the program or store. */
export type ErrorClass = 'configuration' | 'transient' | 'data quality' | 'internal'

const transientCodes: ReadonlySet<string> = new Set([
  'ETL_DB_CONNECT', 'ETL_DB_CONNECTION_LOST', 'ETL_HOPSWORKS', 'ETL_HOPSWORKS_JOB', 'ETL_TIMEOUT', 'ETL_CANCELLED', 'ETL_ABORTED',
  'ETL_WEBHOOK', 'ETL_QUEUE', 'ETL_PARTITION', 'ETL_LOCKED', 'ETL_DISK_FULL', 'ETL_EMBEDDED_PG', 'ETL_SINK',
])

/** The class of an error code (README, "Error codes"): exit 2 and authentication are configuration, exit 3 data quality. */
export function errorClass(code: string): ErrorClass {
  if (code === 'ETL_DB_AUTH' || code === 'ETL_HOPSWORKS_AUTH' || code === 'ETL_HOPSWORKS_SCHEMA') return 'configuration'
  if (transientCodes.has(code)) return 'transient'
  if (!code.startsWith('ETL_')) return 'internal'
  const exit = exitCodeOf(code as EtlErrorCode)
  return exit === 2 ? 'configuration' : exit === 3 ? 'data quality' : code === 'ETL_TRANSFORM' ? 'data quality' : 'internal'
}

export interface EtlErrorOptions extends ErrorOptions {
  /** Extra context (row, column, path, HTTP status ...). Must hold no secret. */
  readonly details?: Readonly<Record<string, unknown>>
}

export class EtlError extends Error {
  override name = 'EtlError'
  readonly code: EtlErrorCode
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: EtlErrorCode, message: string, options?: EtlErrorOptions) {
    super(redact(message), options)
    this.code = code
    this.details = options?.details
  }

  get exitCode(): 1 | 2 | 3 {
    return exitCodeOf(this.code)
  }
}

/** `Invalid option batchSize: expected a positive integer, got 0` */
export function invalidOption(path: string, expected: string, got: unknown): EtlError {
  let shown: string
  try {
    shown = JSON.stringify(got) ?? String(got)
  } catch {
    shown = String(got)
  }
  return new EtlError('ETL_INVALID_OPTION', `Invalid option ${path}: expected ${expected}, got ${shown}`, {
    details: { option: path },
  })
}

const secrets = new Set<string>()

/**
 * Registers a secret (a password, an API key) so that `redact()` removes it
 * from every message built afterwards. Values shorter than 4 characters are
 * not registered (they would blank out ordinary words).
 */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value)
}

/** Removes credentials from URLs (`postgres://u:pw@h` -> `postgres://u:***@h`) and every registered secret. */
export function redact(text: string): string {
  let out = stripUrlAuth(text)
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***')
  return out
}

/** Strips passwords from every URL found in a text. */
export function stripUrlAuth(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s@/]*@/gi, '$1:***@')
}

/** Wraps anything thrown into an EtlError, keeping EtlErrors as they are. */
export function asEtlError(err: unknown, code: EtlErrorCode = 'ETL_INTERNAL'): EtlError {
  if (err instanceof EtlError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new EtlError(code, message, { cause: err })
}
