/**
 * Where the database is, and connecting to it with errors that say what went
 * wrong (never with the password).
 *
 * Order: `DATABASE_URL`, else the `PG*` variables (`PGHOST`, `PGPORT`,
 * `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGOPTIONS`), else "not configured" (the command
 * then starts an embedded PostgreSQL). As in libpq, the `PG*` variables are also the
 * defaults for whatever `DATABASE_URL` leaves out.
 */
import pg from 'pg'
import { channel } from 'node:diagnostics_channel'
import { EtlError, registerSecret, stripUrlAuth } from '../errors.ts'

/** Where each query's text goes for --log-level debug (lib/flow/debug.ts subscribes by this name). */
const sqlChannel = channel('prostate-etl:sql')

export type DbConfig = pg.ClientConfig

const pgVars = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGOPTIONS'] as const

/** The database configured in the environment, or undefined when none is. Registers the password as a secret. */
export function databaseFromEnv(env: NodeJS.ProcessEnv = process.env): DbConfig | undefined {
  const url = env['DATABASE_URL']
  if (url) return databaseFromUrl(withEnvDefaults(url, env), 'DATABASE_URL')
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

/**
 * The URL with the `PG*` variables filled in where it says nothing (libpq's
 * rule): user, password, host (a socket folder goes in `?host=`), port
 * (`?port=` without a host name),
 * database and `?options=`. A URL that does not parse is returned as it is
 * (databaseFromUrl refuses it).
 */
export function withEnvDefaults(url: string, env: NodeJS.ProcessEnv): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return url
  }
  const v = (k: string) => env[k] || undefined
  if (!u.username && v('PGUSER')) u.username = encodeURIComponent(v('PGUSER')!)
  if (!u.password && env['PGPASSWORD']) u.password = encodeURIComponent(env['PGPASSWORD'])
  if (!u.hostname && !u.searchParams.has('host') && v('PGHOST')) {
    const host = v('PGHOST')!
    if (host.startsWith('/')) u.searchParams.set('host', host)
    else u.hostname = host
  }
  if (!u.port && !u.searchParams.has('port') && v('PGPORT')) {
    if (u.hostname) u.port = v('PGPORT')!
    else u.searchParams.set('port', v('PGPORT')!)
  }
  if ((u.pathname === '' || u.pathname === '/') && !u.searchParams.has('database') && v('PGDATABASE')) u.pathname = `/${encodeURIComponent(v('PGDATABASE')!)}`
  if (!u.searchParams.has('options') && v('PGOPTIONS')) u.searchParams.set('options', v('PGOPTIONS')!)
  return u.toString()
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
 * The session settings that shape the text PostgreSQL writes for a value, and
 * the values our sessions use (README "Value mapping"). Whatever a role, a
 * database, `PGOPTIONS` or a URL's `?options=` say, these win for our
 * sessions; the user's other options are kept.
 *
 * - DateStyle ISO: `2024-01-02 03:04:05`, not `02.01.2024` (German) or `Tue Jan 02 ...` (Postgres)
 * - IntervalStyle postgres: `1 year 2 mons -3 days +04:05:06`, PostgreSQL's default
 * - extra_float_digits 3: floats exact (PostgreSQL 12+: the shortest exact text; 0 or less would round to 15 digits)
 * - TimeZone UTC: timestamptz as `... +00`
 * - client_encoding UTF8, bytea_output hex (`\x...`), lc_monetary C (money as `$1,234.50`),
 *   xmlbinary base64, quote_all_identifiers off (reg* types as `name`, not `"name"`)
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  TimeZone: 'UTC',
  client_encoding: 'UTF8',
  bytea_output: 'hex',
  lc_monetary: 'C',
  xmlbinary: 'base64',
  quote_all_identifiers: 'off',
})

/** Our settings as startup options (`-c name=value`; a space in a value is escaped, as PostgreSQL reads options). */
const forcedOptions = Object.entries(SESSION_SETTINGS).map(([k, v]) => `-c ${k}=${v.replace(/ /g, '\\ ')}`).join(' ')

/**
 * The pg config of one of our sessions: the user's options (the URL's `?options=`, else `config.options`, else
 * `PGOPTIONS`, as libpq picks them) followed by ours, which PostgreSQL applies last, so ours win and theirs stay.
 * The URL loses its `options` parameter (pg would let it replace the merged options).
 */
export function sessionConfig(config: DbConfig, env: NodeJS.ProcessEnv = process.env): DbConfig {
  let userOptions = config.options ?? env['PGOPTIONS']
  let connectionString = config.connectionString
  if (connectionString) {
    try {
      const url = new URL(connectionString)
      const fromUrl = url.searchParams.get('options')
      if (fromUrl !== null) {
        userOptions = fromUrl
        url.searchParams.delete('options')
        connectionString = url.toString()
      }
    } catch {
      // Not a WHATWG URL (pg also reads a few other forms): passed on as it is.
    }
  }
  const options = [userOptions, forcedOptions].filter(Boolean).join(' ')
  return connectionString === undefined ? { ...config, options } : { ...config, connectionString, options }
}

/** One query: the settings of SESSION_SETTINGS as the session has them, and the server version. */
const SESSION_SQL = `SELECT current_setting('server_version_num')::int AS version, ${Object.keys(SESSION_SETTINGS)
  .map((k, i) => `current_setting('${k}') AS s${i}`)
  .join(', ')}`

export interface SessionCheck {
  /** server_version_num (e.g. 150020). */
  readonly version: number
  /** Puts back the settings this check changed (a caller's own connection); nothing for ours. */
  restore(): Promise<void>
}

/**
 * Makes sure a connection has SESSION_SETTINGS: ours have them from their
 * startup options; a caller's Client or pool client gets them with set_config
 * and gets its own back from restore(). One round trip when nothing differs.
 */
export async function forceSession(client: pg.ClientBase): Promise<SessionCheck> {
  const { rows } = await client.query<Record<string, string | number>>(SESSION_SQL)
  const row = rows[0] ?? {}
  const names = Object.keys(SESSION_SETTINGS)
  const changed: [string, string][] = []
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    const had = String(row[`s${i}`])
    if (had !== SESSION_SETTINGS[name]) changed.push([name, had])
  }
  if (changed.length) {
    await client.query(`SELECT ${changed.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ')}`, changed.flatMap(([n]) => [n, SESSION_SETTINGS[n]!]))
  }
  return {
    version: Number(row['version']),
    async restore() {
      if (!changed.length) return
      await client.query(`SELECT ${changed.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ')}`, changed.flat()).catch(() => {})
    },
  }
}

/**
 * Connects a client whose session has SESSION_SETTINGS (so values arrive in
 * the text the value mapping reads). Throws ETL_DB_CONNECT or ETL_DB_AUTH.
 */
export async function connect(config: DbConfig): Promise<pg.Client> {
  const client = new pg.Client({ connectionTimeoutMillis: 10_000, application_name: process.env['PGAPPNAME'] || 'prostate-etl', ...sessionConfig(config) })
  try {
    await client.connect()
  } catch (err) {
    client.end().catch(() => {})
    throw connectError(err, config)
  }
  // pg emits 'error' when the server ends an idle connection (pg_terminate_backend, a restart): with no listener
  // that would be an unhandled event and a stack trace. The queries in flight are rejected with it anyway, and a
  // later query on the dead client fails; callers that need to react add their own listener (pgSource does).
  client.on('error', () => {})
  if (sqlChannel.hasSubscribers) traceQueries(client)
  return client
}

/** --log-level debug: each query's text on the SQL channel (lib/flow/debug.ts). */
function traceQueries(client: pg.Client): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const q = args[0] as string | { text?: string; values?: unknown[] } | undefined
    const text = typeof q === 'string' ? q : q?.text
    const values = Array.isArray(args[1]) ? args[1].length : typeof q === 'object' && Array.isArray(q?.values) ? q.values.length : 0
    if (text) sqlChannel.publish({ text, values })
    return query(...args)
  }
}
