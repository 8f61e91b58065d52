/**
 * `etl hopsworks check`: what a new user needs to know before any data moves,
 * one finding per question, each from a harmless read (nothing is created):
 *
 * | finding     | how                                                                                    |
 * | ----------- | -------------------------------------------------------------------------------------- |
 * | host        | `GET project/getProjectInfo/{name}` answers at all (network, HTTP)                     |
 * | tls         | the same call verifies the certificate (hint: `hopsworks.caFile`, `hopsworks.insecure`) |
 * | apiKey      | not 401 (ApiKeyFilter: unknown or wrong key)                                           |
 * | project     | 200 from getProjectInfo (404 150004: missing, or the key's user is no member)          |
 * | featureStore| `GET project/{pid}/featurestores/{project}_featurestore` (FEATURESTORE scope)          |
 * | scope JOB   | `GET project/{pid}/jobs?limit=1` (JobsResource, JOB)                                   |
 * | scope DATASET_VIEW | `GET project/{pid}/dataset/Resources?action=listing&limit=1` (DatasetResource)  |
 * | scope DATASET_CREATE | `GET project/{pid}/dataset/upload/Resources` with flow fields of a file that does not exist (UploadService.testMethod: 204) |
 * | scope DATASET_DELETE | `DELETE project/{pid}/dataset/Resources/<random name>`: 400 110018 (path not found) proves the scope, deletes nothing |
 * | uploads     | the upload policy (variables API), as a load checks it                                 |
 * | featureGroup| `GET …/featuregroups/{name}?version=v`: absent (it will be created), or its type (a stream group needs HOPSWORKS_STREAM_GROUPS=materialize) and its primary key and event time |
 *
 * A 403 with 320004 is a missing scope (ApiKeyFilter); any other refusal is named as it is.
 */
import { randomBytes } from 'node:crypto'
import { EtlError } from '../../errors.ts'
import type { FeatureGroupOptions } from '../feature-group.ts'
import * as api from './api.ts'
import type { HopsworksConfig } from './config.ts'
import { callDetails, isHopsworksError, HopsworksHttp } from './http.ts'

export interface CheckFinding {
  readonly check: string
  readonly ok: boolean
  readonly detail: string
  /** The coded error of a failed finding. */
  readonly error?: EtlError
}

const TLS_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'EPROTO'])

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Runs every check it can; a check that depends on a failed one is skipped. */
export async function checkHopsworks(config: HopsworksConfig, featureGroup: Required<Pick<FeatureGroupOptions, 'name' | 'version'>> & FeatureGroupOptions, timeoutMs = 15_000): Promise<CheckFinding[]> {
  const http = new HopsworksHttp(config, { timeoutMs, retries: 1, retryBaseMs: 200 })
  const out: CheckFinding[] = []
  const pass = (check: string, detail: string): void => void out.push({ check, ok: true, detail })
  const failed = (check: string, error: EtlError): void => void out.push({ check, ok: false, detail: error.message, error })

  const answered = (): void => {
    pass('host', `${config.origin} answers`)
    pass('tls', config.apiUrl.startsWith('https:') ? (config.insecure ? 'certificate NOT verified (hopsworks.insecure: true)' : 'certificate verified') : 'plain http (no TLS)')
  }
  let project: api.Project
  try {
    project = await api.getProject(http, config.project)
    answered()
    pass('apiKey', 'accepted')
    pass('project', `${project.name} (id ${project.id})`)
  } catch (err) {
    const d = callDetails(err)
    if (d?.network && TLS_CODES.has(d.network)) {
      pass('host', `${config.origin} answers`)
      failed('tls', new EtlError('ETL_HOPSWORKS', `the TLS certificate of ${config.origin} does not verify (${d.network}): give the cluster's CA as hopsworks.caFile (a PEM file) in etl.config.json, or, knowingly, hopsworks.insecure: true`, { cause: err, details: { network: d.network } }))
    } else if (d && d.status === undefined) {
      failed('host', new EtlError('ETL_HOPSWORKS', `Hopsworks at ${config.origin} does not answer: ${describe(err)}; check HOPSWORKS_HOST and HOPSWORKS_PORT`, { cause: err }))
    } else if (d?.status === 401) {
      answered()
      failed('apiKey', err as EtlError)
    } else {
      answered()
      failed('project', err instanceof EtlError ? err : new EtlError('ETL_HOPSWORKS', describe(err)))
    }
    return out
  }

  const scope = async (name: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call()
      pass(`scope ${name}`, 'granted')
    } catch (err) {
      if (isHopsworksError(err, [403], [320004])) failed(`scope ${name}`, new EtlError('ETL_HOPSWORKS_AUTH', `the API key lacks the scope ${name}, which a load needs: make a key with PROJECT, FEATURESTORE, JOB, DATASET_CREATE, DATASET_VIEW and DATASET_DELETE`, { cause: err }))
      else failed(`scope ${name}`, err instanceof EtlError ? err : new EtlError('ETL_HOPSWORKS', describe(err)))
    }
  }

  let fs: api.FeatureStore | undefined
  try {
    fs = await api.getFeatureStore(http, project)
    pass('scope FEATURESTORE', 'granted')
    pass('featureStore', fs.name)
  } catch (err) {
    if (isHopsworksError(err, [403], [320004])) failed('scope FEATURESTORE', new EtlError('ETL_HOPSWORKS_AUTH', 'the API key lacks the scope FEATURESTORE, which a load needs', { cause: err }))
    else failed('featureStore', err instanceof EtlError ? err : new EtlError('ETL_HOPSWORKS', describe(err)))
  }
  await scope('JOB', () => http.call({ method: 'GET', path: ['project', project.id, 'jobs'], searchParams: { offset: 0, limit: 1 }, retry: true }))
  await scope('DATASET_VIEW', () => http.call({ method: 'GET', path: ['project', project.id, 'dataset', 'Resources'], searchParams: { action: 'listing', offset: 0, limit: 1, expand: 'inodes' }, retry: true }))
  const probe = `.etl-check-${randomBytes(6).toString('hex')}`
  await scope('DATASET_CREATE', () => http.call({
    method: 'GET', path: ['project', project.id, 'dataset', 'upload', `/Projects/${project.name}/Resources`],
    searchParams: { templateId: -1, flowChunkNumber: 1, flowChunkSize: 1024, flowCurrentChunkSize: 1, flowTotalSize: 1, flowIdentifier: `1_${probe}`, flowFilename: probe, flowRelativePath: probe, flowTotalChunks: 1 }, retry: true,
  }, (s) => s === 200 || s === 204))
  await scope('DATASET_DELETE', async () => {
    try {
      await http.call({ method: 'DELETE', path: ['project', project.id, 'dataset', `Resources/${probe}`], retry: false })
    } catch (err) {
      if (isHopsworksError(err, [400, 404], [110018, 110008, 110011])) return // not there: the scope let the call through
      throw err
    }
  })
  try {
    await api.assertUploadAllowed(http)
    pass('uploads', 'allowed')
  } catch (err) {
    failed('uploads', err instanceof EtlError ? err : new EtlError('ETL_HOPSWORKS', describe(err)))
  }
  if (fs) {
    try {
      const g = await api.findFeatureGroup(http, project, fs, featureGroup.name, featureGroup.version)
      if (!g) pass('featureGroup', `${featureGroup.name} version ${featureGroup.version} does not exist yet: a load creates it`)
      else {
        const type = String(g.raw['type'] ?? 'unknown')
        const features = Array.isArray(g.raw['features']) ? (g.raw['features'] as Record<string, unknown>[]) : []
        const primary = features.filter((f) => f['primary'] === true).map((f) => String(f['name']))
        const schema = features.map((f) => `${String(f['name'])}:${String(f['type'])}${f['primary'] === true ? '*' : ''}`).join(', ')
        const wantKey = featureGroup.primaryKey ?? ['user_id']
        if (type === 'streamFeatureGroupDTO' && config.streamGroups !== 'materialize')
          failed('featureGroup', new EtlError('ETL_HOPSWORKS_SCHEMA', `${featureGroup.name} version ${featureGroup.version} is a stream feature group: a load into it needs HOPSWORKS_STREAM_GROUPS=materialize (its offline table is written by its materialization job), or another version`, { details: { type } }))
        else if (primary.join(',') !== wantKey.join(','))
          failed('featureGroup', new EtlError('ETL_HOPSWORKS_SCHEMA', `${featureGroup.name} version ${featureGroup.version} has primary key ${primary.join(', ') || 'none'}, a load needs ${wantKey.join(', ')}: choose another featureGroup.version`, { details: { primary } }))
        else pass('featureGroup', `${featureGroup.name} version ${featureGroup.version} exists (${type}; ${schema}); a load checks its columns against it before sending anything`)
      }
    } catch (err) {
      failed('featureGroup', err instanceof EtlError ? err : new EtlError('ETL_HOPSWORKS', describe(err)))
    }
  }
  return out
}
