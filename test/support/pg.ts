/**
 * Finds a PostgreSQL for the tests: DATABASE_URL or PG* variables; else
 * 127.0.0.1:5432 as postgres (database `test`, else `postgres`) if it answers;
 * else an embedded PostgreSQL started for this test process.
 *
 * `testDb(t)` gives each test its own schema (dropped at teardown) and a
 * connected client whose search_path points at it.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { connect, databaseFromEnv, type DbConfig } from '../../lib/extract/connect.ts'
import { startEmbedded } from '../../lib/extract/embedded.ts'

interface Teardown {
  teardown(fn: () => unknown): void
}

let base: Promise<DbConfig> | undefined

async function probe(config: DbConfig): Promise<boolean> {
  const c = new pg.Client({ ...config, connectionTimeoutMillis: 2000 })
  try {
    await c.connect()
    await c.end()
    return true
  } catch {
    await c.end().catch(() => {})
    return false
  }
}

/** The base connection config for this test process. */
export function baseDatabase(): Promise<DbConfig> {
  base ??= (async () => {
    const env = databaseFromEnv(process.env)
    if (env) return env
    for (const database of ['test', 'postgres']) {
      const local = { host: '127.0.0.1', port: 5432, user: 'postgres', database }
      if (await probe(local)) return local
    }
    const embedded = await startEmbedded({ seed: false })
    process.once('exit', () => void embedded.stop())
    return embedded.config
  })()
  return base
}

export interface TestDb {
  readonly client: pg.Client
  readonly schema: string
  /** Connection config whose sessions use this schema. */
  readonly config: DbConfig
  /** Environment variables that point `etl` (a child process) at this schema. */
  readonly env: Record<string, string>
}

/** A fresh schema and a client inside it; both cleaned up at teardown. */
export async function testDb(t: Teardown): Promise<TestDb> {
  const baseConfig = await baseDatabase()
  const schema = `t_${randomBytes(6).toString('hex')}`
  const admin = await connect(baseConfig)
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const config: DbConfig = { ...baseConfig, options: `-c search_path=${schema}` }
  const client = await connect(config)
  client.on('error', () => {})
  t.teardown(async () => {
    await client.end().catch(() => {})
    const c = await connect(baseConfig)
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  })
  return { client, schema, config, env: envFor(config) }
}

/** PG* variables for a config (the child process reads them). */
export function envFor(config: DbConfig): Record<string, string> {
  const env: Record<string, string> = {}
  if (config.connectionString) env['DATABASE_URL'] = config.connectionString
  if (config.host) env['PGHOST'] = String(config.host)
  if (config.port) env['PGPORT'] = String(config.port)
  if (config.user) env['PGUSER'] = config.user
  if (config.database) env['PGDATABASE'] = config.database
  if (typeof config.password === 'string') env['PGPASSWORD'] = config.password
  if (config.options) env['PGOPTIONS'] = config.options
  return env
}
