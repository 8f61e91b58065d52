/**
 * The partition queue: pg-boss, in its own schema (`pgboss` unless
 * `ETL_QUEUE_SCHEMA` says otherwise) of the queue database: `ETL_QUEUE_URL`,
 * else the source database. The coordinator (`etl run --partitions N`) sends one
 * job per key range; `etl worker`s work them.
 *
 * Jobs carry a heartbeat: a worker that dies stops beating, and pg-boss's
 * supervisor fails the attempt after `heartbeatSeconds`, which makes it
 * available to another worker (up to `retryLimit` retries). Every instance
 * supervises (pg-boss takes care that one pass runs at a time), with short
 * intervals: this queue holds a handful of jobs per run.
 */
import { PgBoss, type ConstructorOptions } from 'pg-boss'
import { EtlError } from '../errors.ts'
import { databaseFromUrl, describeDb, type DbConfig } from '../extract/connect.ts'

/** The queue every run's partition jobs go to. */
export const PARTITION_QUEUE = 'etl-partitions'

export interface QueueSettings {
  readonly db: DbConfig
  readonly schema: string
  /** Heartbeat interval of a partition job (pg-boss minimum 10 s). */
  readonly heartbeatSeconds: number
  /** Seconds between supervision passes (expiry, dead-worker detection). */
  readonly superviseSeconds: number
}

/** The queue database and options from the environment; `source` when ETL_QUEUE_URL is not set. */
export function queueSettings(env: NodeJS.ProcessEnv, source: DbConfig | undefined): QueueSettings {
  const url = env['ETL_QUEUE_URL']
  let db: DbConfig | undefined = source
  if (url) db = databaseFromUrl(url, 'ETL_QUEUE_URL')
  if (!db) throw new EtlError('ETL_CONFIG', 'partitions need a queue database: set ETL_QUEUE_URL, or DATABASE_URL / PG* for the source (the embedded PostgreSQL cannot be shared with workers)')
  const schema = env['ETL_QUEUE_SCHEMA'] || 'pgboss'
  if (!/^[a-z_][a-z0-9_]{0,49}$/.test(schema)) throw new EtlError('ETL_CONFIG', `ETL_QUEUE_SCHEMA must be a lowercase identifier, got ${JSON.stringify(schema)}`)
  const seconds = (name: string, fallback: number, min: number): number => {
    const v = env[name]
    if (v === undefined || v === '') return fallback
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) throw new EtlError('ETL_CONFIG', `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
    return n
  }
  return Object.freeze({
    db,
    schema,
    heartbeatSeconds: seconds('ETL_QUEUE_HEARTBEAT_SECONDS', 10, 10),
    superviseSeconds: seconds('ETL_QUEUE_SUPERVISE_SECONDS', 2, 1),
  })
}

function connectionOf(db: DbConfig): ConstructorOptions {
  if (db.connectionString) return { connectionString: db.connectionString }
  const out: ConstructorOptions = {}
  if (db.host !== undefined) out.host = db.host
  if (db.port !== undefined) out.port = db.port
  if (db.user !== undefined) out.user = db.user
  if (typeof db.password === 'string') out.password = db.password
  if (db.database !== undefined) out.database = db.database
  if (db.ssl !== undefined) out.ssl = db.ssl
  return out
}

export interface Queue {
  readonly boss: PgBoss
  readonly settings: QueueSettings
  stop(): Promise<void>
}

/** Starts pg-boss (installing its schema on first use) and makes sure the partition queue exists. */
export async function openQueue(settings: QueueSettings, options: { readonly onError?: (err: Error) => void } = {}): Promise<Queue> {
  const boss = new PgBoss({
    ...connectionOf(settings.db),
    schema: settings.schema,
    application_name: 'prostate-etl-queue',
    max: 4,
    superviseIntervalSeconds: settings.superviseSeconds,
    monitorIntervalSeconds: settings.superviseSeconds,
    schedule: false,
  })
  // pg-boss reports background failures as events; one unheard would crash the process.
  boss.on('error', (err: Error) => options.onError?.(err))
  try {
    await boss.start()
    await boss.createQueue(PARTITION_QUEUE)
  } catch (err) {
    await boss.stop({ graceful: false, timeout: 1000 }).catch(() => {})
    throw new EtlError('ETL_QUEUE', `cannot open the partition queue in ${describeDb(settings.db)} (schema ${settings.schema}): ${(err as Error).message}`, { cause: err })
  }
  let stopped = false
  return {
    boss,
    settings,
    async stop() {
      if (stopped) return
      stopped = true
      await boss.stop({ graceful: true, timeout: 10_000 }).catch(() => {})
    },
  }
}
