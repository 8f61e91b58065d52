/**
 * Everything a pipeline needs, resolved once from the configuration (defaults
 * < etl.config.json < flags) and the environment (database, Hopsworks).
 */
import { resolve } from 'node:path'
import { defaults, type EtlConfig, type MissingPolicy } from '../config/config.ts'
import { EtlError } from '../errors.ts'
import type { SourceSpec } from '../extract/relation.ts'
import { hopsworksConfigFromEnv, type HopsworksConfig } from '../load/hopsworks/index.ts'
import type { FeatureGroupOptions } from '../load/feature-group.ts'

export interface Settings {
  readonly source: SourceSpec
  readonly dataDir: string
  readonly suitePath: string
  readonly metaSuitePath: string
  readonly sink: 'local' | 'hopsworks'
  readonly hopsworks: HopsworksConfig | undefined
  readonly onInvalid: 'abort' | 'warn'
  readonly invalidRows: 'keep' | 'quarantine'
  readonly batchSize: number
  readonly retries: number
  readonly retryDelay: number
  readonly timeout: number | undefined
  /** Seconds to wait for the local feature group's lock (config lockTimeout, --lock-timeout). */
  readonly lockTimeout: number
  readonly transform: {
    readonly id: 'nanoid' | 'sequential' | 'derived'
    readonly key: readonly string[] | undefined
    readonly datetime: 'run' | 'row'
    readonly idColumn: string
    readonly datetimeColumn: string
    readonly missing: { readonly default?: MissingPolicy; readonly columns?: Readonly<Record<string, MissingPolicy>> } | undefined
  }
  readonly featureGroup: FeatureGroupOptions
  readonly featureView: EtlConfig['featureView']
  readonly pollIntervalMs: number | undefined
  readonly parts: { readonly rows?: number; readonly bytes?: number } | undefined
}

export function resolveSettings(config: Readonly<EtlConfig>, env: NodeJS.ProcessEnv, cwd = process.cwd()): Settings {
  const hopsworks = hopsworksConfigFromEnv(env, { caFile: config.hopsworks?.caFile, insecure: config.hopsworks?.insecure, timeoutSeconds: config.hopsworks?.timeoutSeconds })
  const sink = config.sink ?? (env['HOPSWORKS_API_KEY'] ? 'hopsworks' : 'local')
  if (sink === 'hopsworks' && !hopsworks)
    throw new EtlError('ETL_CONFIG', '--sink hopsworks needs HOPSWORKS_HOST, HOPSWORKS_API_KEY and HOPSWORKS_PROJECT in the environment (or .env)')
  if (config.id === 'derived' && !config.key?.length)
    throw new EtlError('ETL_USAGE', '--id derived needs the key columns: pass --key col1,col2 (or "key" in etl.config.json)')
  const idColumn = config.idColumn ?? defaults.idColumn
  const datetimeColumn = config.datetimeColumn ?? defaults.datetimeColumn
  return Object.freeze({
    source: config.query ? { query: config.query, values: config.queryValues } : { table: config.table ?? defaults.table },
    dataDir: resolve(cwd, config.dataDir ?? defaults.dataDir),
    suitePath: resolve(cwd, config.suite ?? defaults.suite),
    metaSuitePath: resolve(cwd, config.metaSuite ?? defaults.metaSuite),
    sink,
    hopsworks: sink === 'hopsworks' ? hopsworks : undefined,
    onInvalid: config.onInvalid ?? defaults.onInvalid,
    invalidRows: config.invalidRows ?? defaults.invalidRows,
    batchSize: config.batchSize ?? defaults.batchSize,
    retries: config.retries ?? defaults.retries,
    retryDelay: config.retryDelay ?? defaults.retryDelay,
    timeout: config.timeout,
    lockTimeout: config.lockTimeout ?? 60,
    transform: {
      id: config.id ?? defaults.id,
      key: config.key,
      datetime: config.datetime ?? defaults.datetime,
      idColumn,
      datetimeColumn,
      missing: config.missing,
    },
    featureGroup: { ...defaults.featureGroup, ...config.featureGroup, primaryKey: [idColumn], eventTime: datetimeColumn },
    featureView: config.featureView,
    pollIntervalMs: config.hopsworks?.pollIntervalSeconds === undefined ? undefined : config.hopsworks.pollIntervalSeconds * 1000,
    parts: config.hopsworks?.partRows || config.hopsworks?.partBytes ? { rows: config.hopsworks.partRows, bytes: config.hopsworks.partBytes } : undefined,
  })
}
