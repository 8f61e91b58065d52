/**
 * Where the database is, and connecting to it with errors that say what went
 * wrong (never with the password).
 *
 * Order: `DATABASE_URL`, else the `PG*` variables (`PGHOST`, `PGPORT`,
 * `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGOPTIONS`), else "not configured" (the command
 * then starts an embedded PostgreSQL).
 */
import pg from 'pg'
import { EtlError, registerSecret, stripUrlAuth } from '../errors.ts'

export type DbConfig = pg.ClientConfig

const pgVars = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGOPTIONS'] as const

/** The database configured in the environment, or undefined when none is. Registers the password as a secret. */
export function databaseFromEnv(env: NodeJS.ProcessEnv = process.env): DbConfig | undefined {
  const url = env['DATABASE_URL']
  if (url) return databaseFromUrl(url, 'DATABASE_URL')
  if (!pgVars.some((k) => env[k])) return undefined
  registerSecret(env['PGPASSWORD'])
  const port = env['PGPORT'] ? Number(env['PGPORT']) : 5432
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new EtlError('ETL_CONFIG', `PGPORT must be a port number, got ${JSON.stringify(env['PGPORT'])}`)
  const config: DbConfig = {
    host: env['PGHOST'] ?? '127.0.0.1',
    port,
    user: env['PGUSER'] ?? 'postgres',
    database: env['PGDATABASE'] ?? env['PGUSER'] ?? 'postgres',
  }
  if (env['PGPASSWORD'] !== undefined) config.password = env['PGPASSWORD']
  if (env['PGOPTIONS']) config.options = env['PGOPTIONS']
  return config
}

/** A connection string (from the variable `name`): checked, its password registered as a secret. */
export function databaseFromUrl(url: string, name: string): DbConfig {
  try {
    const parsed = new URL(url)
    if (parsed.password) registerSecret(decodeURIComponent(parsed.password))
  } catch {
    throw new EtlError('ETL_CONFIG', `${name} is not a valid URL: ${hideUserinfo(url)}`)
  }
  return { connectionString: url }
}

/**
 * A URL that did not parse, for a message: everything before the last `@` is
 * hidden, since a password with an unescaped `/` or `@` defeats stripUrlAuth.
 */
function hideUserinfo(url: string): string {
  const at = url.lastIndexOf('@')
  if (at < 0) return stripUrlAuth(url)
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? ''
  return `${scheme}***${url.slice(at)}`
}

/** `user@host:port/database`, for messages. Never the password. */
export function describeDb(config: DbConfig): string {
  if (config.connectionString) {
    try {
      const u = new URL(config.connectionString)
      return `${decodeURIComponent(u.username) || 'postgres'}@${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname || '/'}`
    } catch {
      return 'the configured database'
    }
  }
  return `${config.user ?? 'postgres'}@${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? config.user ?? 'postgres'}`
}

interface PgErrorLike {
  code?: string
  message?: string
}

/** Maps a pg connection error to a coded EtlError. */
export function connectError(err: unknown, config: DbConfig): EtlError {
  const e = (err ?? {}) as PgErrorLike
  const where = describeDb(config)
  switch (e.code) {
    case '28P01':
    case '28000':
      return new EtlError('ETL_DB_AUTH', `database authentication failed for ${where}: check the user and password`, { cause: err })
    case '3D000':
      return new EtlError('ETL_DB_CONNECT', `database does not exist: ${where}`, { cause: err })
    case 'ECONNREFUSED':
      return new EtlError('ETL_DB_CONNECT', `cannot connect to PostgreSQL at ${where}: connection refused`, { cause: err })
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new EtlError('ETL_DB_CONNECT', `cannot connect to PostgreSQL at ${where}: host not found`, { cause: err })
    default:
      return new EtlError('ETL_DB_CONNECT', `cannot connect to PostgreSQL at ${where}: ${e.message ?? String(err)}`, { cause: err })
  }
}

/**
 * Connects a client with the session time zone set to UTC (so timestamptz
 * values need no conversion). Throws ETL_DB_CONNECT or ETL_DB_AUTH.
 */
export async function connect(config: DbConfig): Promise<pg.Client> {
  const options = [config.options, '-c TimeZone=UTC'].filter(Boolean).join(' ')
  const client = new pg.Client({ connectionTimeoutMillis: 10_000, application_name: process.env['PGAPPNAME'] || 'prostate-etl', ...config, options })
  try {
    await client.connect()
  } catch (err) {
    client.end().catch(() => {})
    throw connectError(err, config)
  }
  return client
}
