/**
 * Where Hopsworks is and how to reach it, from the environment:
 *
 * | variable            | meaning                                                                       |
 * | ------------------- | ----------------------------------------------------------------------------- |
 * | `HOPSWORKS_HOST`    | a host name (https assumed) or a full URL (`http://127.0.0.1:8181`)           |
 * | `HOPSWORKS_PORT`    | the port, when the host carries none (default 443 for https, 80 for http)     |
 * | `HOPSWORKS_API_KEY` | the API key (`<prefix>.<secret>`); registered as a secret, never printed      |
 * | `HOPSWORKS_PROJECT` | the project name                                                              |
 * | `HOPSWORKS_STREAM_GROUPS` | `refuse` (default) or `materialize`: what a load into an existing stream feature group does |
 *
 * TLS certificates are verified unless `insecure: true` is given explicitly;
 * `caFile` adds a CA (PEM) for self-signed clusters.
 */
import { readFileSync } from 'node:fs'
import { EtlError, registerSecret } from '../../errors.ts'

export interface HopsworksConfig {
  /** `https://host:port/hopsworks-api/api/` (always ends in `/`). */
  readonly apiUrl: string
  /** `https://host:port`, for messages. */
  readonly origin: string
  readonly apiKey: string
  readonly project: string
  /** PEM text of an extra CA, read from `caFile`. */
  readonly ca?: string
  /** True only when TLS verification was turned off on purpose. */
  readonly insecure: boolean
  /** Per-call timeout, ms (`hopsworks.timeoutSeconds`); HopsworksHttp's default (30 s) when absent. */
  readonly timeoutMs?: number
  /**
   * An existing stream feature group (`streamFeatureGroupDTO`): its ingestion writes only to Kafka, the offline
   * table waits for the group's materialization job. `refuse` (default): the load stops before anything is sent;
   * `materialize`: the load runs that job after the ingestion and waits for it.
   */
  readonly streamGroups: 'refuse' | 'materialize'
}

export interface HopsworksConfigOptions {
  /** A PEM file with the CA of a self-signed cluster. */
  readonly caFile?: string
  /** Turn TLS certificate verification off. Default false. */
  readonly insecure?: boolean
  /** The longest wait for one call's answer, seconds (each retry gets it anew). Default 30. */
  readonly timeoutSeconds?: number
  /** See HopsworksConfig.streamGroups; default the environment's HOPSWORKS_STREAM_GROUPS, else `refuse`. */
  readonly streamGroups?: 'refuse' | 'materialize'
}

/** True when the environment asks for Hopsworks (an API key or a host is set). */
export function hopsworksConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env['HOPSWORKS_API_KEY'] || env['HOPSWORKS_HOST'])
}

/**
 * Reads the Hopsworks settings. Returns undefined when neither
 * `HOPSWORKS_API_KEY` nor `HOPSWORKS_HOST` is set (the local sink is the
 * default then). Throws ETL_CONFIG when the settings are incomplete or
 * invalid (the message names the variable, never the key's value), or when
 * `caFile` cannot be read.
 */
export function hopsworksConfigFromEnv(env: Readonly<Record<string, string | undefined>>, options: HopsworksConfigOptions = {}): HopsworksConfig | undefined {
  if (!hopsworksConfigured(env)) return undefined
  const host = env['HOPSWORKS_HOST']?.trim()
  const apiKey = env['HOPSWORKS_API_KEY']?.trim()
  const project = env['HOPSWORKS_PROJECT']?.trim()
  const portText = env['HOPSWORKS_PORT']?.trim()
  const missing = [!host && 'HOPSWORKS_HOST', !apiKey && 'HOPSWORKS_API_KEY', !project && 'HOPSWORKS_PROJECT'].filter(Boolean)
  if (missing.length) throw new EtlError('ETL_CONFIG', `Hopsworks is only partly configured: set ${missing.join(', ')} (or unset HOPSWORKS_HOST and HOPSWORKS_API_KEY to load locally)`)
  registerSecret(apiKey)
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(host!) ? host! : `https://${host}`)
  } catch {
    throw new EtlError('ETL_CONFIG', `HOPSWORKS_HOST is not a host name or URL: ${JSON.stringify(host)}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EtlError('ETL_CONFIG', `HOPSWORKS_HOST must use http or https, got ${url.protocol}`)
  if (url.username || url.password) throw new EtlError('ETL_CONFIG', 'HOPSWORKS_HOST must not carry credentials: use HOPSWORKS_API_KEY')
  if (portText) {
    const port = Number(portText)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new EtlError('ETL_CONFIG', `HOPSWORKS_PORT must be a port number, got ${JSON.stringify(portText)}`)
    if (!url.port) url.port = String(port)
  }
  let ca: string | undefined
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile, 'utf8')
    } catch (err) {
      throw new EtlError('ETL_CONFIG', `cannot read the Hopsworks CA file ${options.caFile}: ${(err as Error).message}`, { cause: err })
    }
  }
  const timeout = options.timeoutSeconds
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) throw new EtlError('ETL_CONFIG', `hopsworks.timeoutSeconds must be a positive number, got ${JSON.stringify(timeout)}`)
  const streamGroups = options.streamGroups ?? (env['HOPSWORKS_STREAM_GROUPS']?.trim() || 'refuse')
  if (streamGroups !== 'refuse' && streamGroups !== 'materialize') throw new EtlError('ETL_CONFIG', `HOPSWORKS_STREAM_GROUPS must be refuse or materialize, got ${JSON.stringify(streamGroups)}`)
  const base = url.pathname.replace(/\/+$/, '')
  const apiPath = base.endsWith('/hopsworks-api/api') ? base : `${base}/hopsworks-api/api`
  return Object.freeze({
    apiUrl: `${url.origin}${apiPath}/`,
    origin: url.origin,
    apiKey: apiKey!,
    project: project!,
    ...(ca !== undefined ? { ca } : {}),
    insecure: options.insecure === true,
    streamGroups,
    ...(timeout !== undefined ? { timeoutMs: Math.round(timeout * 1000) } : {}),
  })
}
