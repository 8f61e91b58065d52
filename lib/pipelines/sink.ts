/**
 * Opening the sink of a load: the local feature store under the data folder,
 * or Hopsworks. Both are StagedSinks: the gate decides commit or abort.
 */
import type { SuiteResult, Suite } from '../expectations/types.ts'
import { hopsworksSink, type HopsworksProgress } from '../load/hopsworks/index.ts'
import type { GeExpectationConfig, GeExpectationSuite, GeValidationResult } from '../load/hopsworks/validation.ts'
import { localSink } from '../load/local-sink.ts'
import type { StagedSink, WriteDisposition } from '../load/sink.ts'
import type { Column } from '../types.ts'
import type { Settings } from './settings.ts'

export interface OpenSinkOptions {
  readonly settings: Settings
  readonly columns: readonly Column[]
  readonly signal?: AbortSignal
  /** The suite and its result, asked at commit time (attached to the Hopsworks feature group). */
  readonly validation?: () => { readonly suite: Suite; readonly result: SuiteResult } | undefined
  readonly onProgress?: (p: HopsworksProgress) => void
  /** The run made the primary keys itself (nanoid or sequential ids): no key repeats within the load (LocalSinkOptions.uniqueKeys). */
  readonly uniqueKeys?: boolean
  /** Names the load in the local feature group's lock (the flow's run id). */
  readonly runId?: string
}

/** The suite in Great Expectations' JSON form (what Hopsworks stores). */
export function geSuite(suite: Suite): GeExpectationSuite {
  return {
    expectation_suite_name: suite.name,
    expectations: suite.expectations.map((e) => ({
      expectation_type: e.config.expectation_type,
      kwargs: e.config.kwargs as GeExpectationConfig['kwargs'],
      meta: { ...e.config.meta, expectation_id: e.id } as GeExpectationConfig['meta'],
    })),
    meta: suite.meta as GeExpectationSuite['meta'],
  }
}

export async function openSink(options: OpenSinkOptions): Promise<StagedSink> {
  const { settings, columns } = options
  // `write` is the sinks' option of the shared contract (lib/load/sink.ts, WriteDisposition).
  const write: { readonly write: WriteDisposition } = { write: settings.write }
  if (settings.sink === 'local' || !settings.hopsworks) {
    const local = { ...write, dataDir: settings.dataDir, columns, featureGroup: settings.featureGroup, uniqueKeys: options.uniqueKeys === true, lockTimeoutMs: settings.lockTimeout * 1000, runId: options.runId, signal: options.signal }
    return localSink(local)
  }
  const remote = {
    ...write,
    config: settings.hopsworks,
    columns,
    featureGroup: settings.featureGroup,
    featureView: settings.featureView,
    ...(settings.parts ? { parts: settings.parts } : {}),
    ...(settings.pollIntervalMs ? { pollIntervalMs: settings.pollIntervalMs } : {}),
    signal: options.signal,
    onProgress: options.onProgress,
    validation: () => {
      const v = options.validation?.()
      return v ? { suite: geSuite(v.suite), report: v.result as unknown as GeValidationResult } : undefined
    },
  }
  return hopsworksSink(remote)
}
