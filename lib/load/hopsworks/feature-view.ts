/**
 * The optional feature view over the loaded feature group (API.md section 7):
 * `GET …/featureview/{name}/version/{v}` (404 / 270181 when missing), else
 * `POST …/featureview` (201); a create that fails ("already exists" 270179,
 * or no answer) is followed by a read.
 */
import { EtlError, invalidOption } from '../../errors.ts'
import { HOPSWORKS_NAME } from '../feature-group.ts'
import { createThenRead, type FeatureGroup, type FeatureStore, type Project } from './api.ts'
import { isHopsworksError, type HopsworksHttp } from './http.ts'

type Json = Record<string, unknown>

export interface FeatureViewOptions {
  /** Default `<feature group name>_view`. */
  readonly name?: string
  /** Default the feature group's version. */
  readonly version?: number
  /** Features to include. Default all the feature group's features. */
  readonly features?: readonly string[]
  /** Default "Feature view over <fg> version <v>". */
  readonly description?: string
}

export interface FeatureViewRef { readonly name: string; readonly version: number; readonly created: boolean }

/** Checks the options against the feature group's features; returns name, version and features. Throws ETL_INVALID_OPTION. */
export function featureViewPlan(options: FeatureViewOptions, fgName: string, fgVersion: number, fgFeatures: readonly string[]): { name: string; version: number; features: readonly string[]; description: string } {
  const name = options.name ?? `${fgName}_view`
  const version = options.version ?? fgVersion
  if (!HOPSWORKS_NAME.test(name)) throw invalidOption('featureView.name', 'a lowercase name matching ^[a-z][a-z0-9_]*$ (at most 63 characters)', name)
  if (!Number.isInteger(version) || version < 1) throw invalidOption('featureView.version', 'a positive integer', version)
  const features = options.features ?? fgFeatures
  if (features.length === 0) throw invalidOption('featureView.features', 'at least one feature', features)
  for (const f of features) if (!fgFeatures.includes(f)) throw invalidOption('featureView.features', `features of ${fgName} (${fgFeatures.join(', ')})`, f)
  return { name, version, features, description: options.description ?? `Feature view over ${fgName} version ${fgVersion}` }
}

async function findView(http: HopsworksHttp, base: readonly (string | number)[], name: string, version: number): Promise<Json | undefined> {
  try {
    const { body } = await http.call({ method: 'GET', path: [...base, name, 'version', version], searchParams: { expand: 'features' }, retry: true })
    const o = body && typeof body === 'object' ? (body as Json) : {}
    const items = Array.isArray(o['items']) ? (o['items'] as Json[]) : undefined
    return items ? items[0] : Object.keys(o).length ? o : undefined
  } catch (err) {
    // Only the server's FEATURE_VIEW_NOT_FOUND (270181) means absent; a bare 404 is an error.
    if (isHopsworksError(err, [404, 400], [270181])) return undefined
    throw err
  }
}

function sameFeatures(view: Json, features: readonly string[]): string | undefined {
  const list = view['features']
  if (!Array.isArray(list) || list.length === 0) return undefined
  const have = list.map((f) => String((f as Json)['name'])).sort()
  const want = [...features].sort()
  return have.join(',') === want.join(',') ? undefined : `it has features ${have.join(', ')}, wanted ${want.join(', ')}`
}

/** Gets or creates the feature view. Throws ETL_HOPSWORKS_SCHEMA when it exists with other features. */
export async function ensureFeatureView(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup, plan: ReturnType<typeof featureViewPlan>): Promise<FeatureViewRef> {
  const base = ['project', project.id, 'featurestores', fs.id, 'featureview']
  const check = (view: Json): FeatureViewRef => {
    const diff = sameFeatures(view, plan.features)
    if (diff) throw new EtlError('ETL_HOPSWORKS_SCHEMA', `feature view ${plan.name} version ${plan.version} already exists and ${diff}; choose another featureView.version`, { details: { featureView: plan.name, version: plan.version } })
    return { name: plan.name, version: plan.version, created: false }
  }
  const existing = await findView(http, base, plan.name, plan.version)
  if (existing) return check(existing)
  const body = {
    type: 'featureViewDTO',
    name: plan.name,
    version: plan.version,
    description: plan.description,
    featurestoreId: fs.id,
    query: {
      featureStoreName: fs.name,
      featureStoreId: fs.id,
      leftFeatureGroup: { id: fg.id, type: String(fg.raw['type'] ?? 'cachedFeaturegroupDTO'), name: fg.name, version: fg.version, featurestoreId: fs.id },
      leftFeatures: plan.features.map((name) => ({ name })),
      leftFeatureGroupStartTime: null,
      leftFeatureGroupEndTime: null,
      joins: [],
      filter: null,
      hiveEngine: true,
    },
    features: [],
  }
  return createThenRead(
    async () => {
      await http.call({ method: 'POST', path: base, json: body, retry: 'unsent' })
      return { name: plan.name, version: plan.version, created: true }
    },
    async () => {
      const v = await findView(http, base, plan.name, plan.version)
      return v && check(v)
    },
    [270179],
  )
}
