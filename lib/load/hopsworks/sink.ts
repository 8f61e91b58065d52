/**
 * The Hopsworks sink: a StagedSink that loads through an ingestion job.
 *
 *     hopsworksSink(options)       project -> feature store -> feature group (get or create,
 *                                  schema checked) -> ingestion job (CSV, header)
 *     sink.writable  <- Batch ...  rows gathered into CSV parts (rows/bytes), each uploaded in
 *                                  flow.js chunks to the job's dataPath; at most
 *                                  `partsInFlight` parts uploading (backpressure)
 *     sink.commit()                start the job, poll to its final status, then the
 *                                  feature view (optional), the expectation suite and the
 *                                  validation report (when given)
 *     sink.abort()                 the job is never started; the staged files and the
 *                                  unused job are deleted. Once the job was started,
 *                                  abort() does nothing: the job's outcome decides
 *                                  (a FAILED job leaves the feature group unchanged)
 */
import { assertExactForHopsworks } from './exact.ts'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { EtlError, invalidOption } from '../../errors.ts'
import type { Batch, Column } from '../../types.ts'
import { PartBuilder, partLimits, type Part, type PartLimits } from '../batch-parts.ts'
import { assertSameSchema, featureGroupDto, type FeatureGroupOptions } from '../feature-group.ts'
import type { LoadReport, LoadSummary, StagedSink, WriteDisposition } from '../sink.ts'
import * as api from './api.ts'
import type { HopsworksConfig } from './config.ts'
import { featureViewPlan, ensureFeatureView, type FeatureViewOptions } from './feature-view.ts'
import { HopsworksHttp, type HttpOptions } from './http.ts'
import { checkChunkSize, checkUploaded, uploadFile, DEFAULT_CHUNK_SIZE } from './upload.ts'
import { attachReport, attachSuite, checkReport, checkSuite, reportDto, suiteDto, type GeValidationResult, type StoredSuite, type ValidationAttachment } from './validation.ts'

export type HopsworksProgress =
  | { readonly phase: 'ready'; readonly featureGroup: { readonly name: string; readonly version: number; readonly id: number }; readonly created: boolean; readonly job: string; readonly dataPath: string }
  | { readonly phase: 'upload'; readonly parts: number; readonly rows: number; readonly bytes: number }
  | { readonly phase: 'job'; readonly executionId: number; readonly state: string; readonly finalStatus: string; readonly progress?: number }
  | { readonly phase: 'attached'; readonly what: 'featureView' | 'expectationSuite' | 'validationReport' }

export interface HopsworksSinkOptions {
  readonly config: HopsworksConfig
  /** The columns of the data (after transform): they type the feature group. */
  readonly columns: readonly Column[]
  /** Name, version, description, online, primary key, event time. Defaults: see FEATURE_GROUP_DEFAULTS. */
  readonly featureGroup?: FeatureGroupOptions
  /**
   * What the load does with the rows already in the group (LoadReport / WriteDisposition):
   * - `merge` (default) and `append`: the ingestion job's insert, an upsert on the primary key of
   *   the HUDI group (append is only offered for keys the run made, so every row is new);
   * - `replace`: a new version of the feature group (one past the highest) holding exactly this
   *   load's rows. The server's ingestion job cannot overwrite: its `insert_fg` calls
   *   `fg.insert(df, write_options=...)` with no `overwrite` (hopsworks-api utils/python/hsfs_utils.py),
   *   and clearing the group first would lose the rows if the job then failed. The old version stays
   *   as it was; a failed or aborted replace deletes the new, empty version.
   */
  readonly write?: WriteDisposition
  /** Make a feature view after the load: true (all features) or its options. Default false. */
  readonly featureView?: boolean | FeatureViewOptions
  /** Part size limits. Defaults: 50,000 rows, 8 MiB. */
  readonly parts?: PartLimits
  /** Upload chunk size, bytes, at most 10 MiB (the default, as the Python client); three chunks of a part go at once. */
  readonly chunkSize?: number
  /** Parts uploading at once (memory: this many parts plus the one being built). Default 3 (the Python client's simultaneous uploads). */
  readonly partsInFlight?: number
  /** Job poll interval, ms. Default 3000. */
  readonly pollIntervalMs?: number
  /** Longest wait for the job's final status, ms. Default 2 hours; then ETL_TIMEOUT. */
  readonly jobTimeoutMs?: number
  /** Timeouts and retries of every call. */
  readonly http?: HttpOptions
  /** The suite and report to attach after the load: a value, or a function asked at commit time (when validation has finished). */
  readonly validation?: ValidationAttachment | (() => ValidationAttachment | undefined | Promise<ValidationAttachment | undefined>)
  readonly onProgress?: (progress: HopsworksProgress) => void
  /** Cancels everything in flight. */
  readonly signal?: AbortSignal
}

export interface HopsworksSink extends StagedSink {
  /** What the setup found or made. */
  readonly target: { readonly projectId: number; readonly featureStoreId: number; readonly featureGroupId: number; readonly created: boolean; readonly dataPath: string; readonly jobName: string }
}

/**
 * What a load into an existing stream feature group does (HopsworksConfig.streamGroups): the
 * ingestion job's insert writes such a group only to Kafka (hopsworks-api python/hsfs/engine/
 * spark.py: stream groups are saved as a stream), so the job ends SUCCEEDED while the offline
 * table stays empty until the materialization job runs. Refuse, or plan that job.
 */
async function streamPlan(http: HopsworksHttp, project: api.Project, fg: api.FeatureGroup): Promise<{ name: string; args: string } | undefined> {
  if (String(fg.raw['type'] ?? '') !== 'streamFeatureGroupDTO') return undefined
  const what = `feature group ${fg.name} version ${fg.version} in project ${project.name} is a stream feature group: a load writes it through Kafka, and its offline table stays empty until the group's materialization job runs`
  if (http.config.streamGroups !== 'materialize')
    throw new EtlError('ETL_HOPSWORKS_SCHEMA', `${what}. Set HOPSWORKS_STREAM_GROUPS=materialize to run that job after each load, or load into another feature group version. Nothing was sent.`, { details: { featureGroup: fg.name, version: fg.version, type: 'streamFeatureGroupDTO' } })
  const job = await api.findMaterializationJob(http, project, fg)
  if (!job) throw new EtlError('ETL_HOPSWORKS_SCHEMA', `${what}, and it has no materialization job (${fg.name}_${fg.version}_offline_fg_materialization): nothing was sent.`, { details: { featureGroup: fg.name, version: fg.version, type: 'streamFeatureGroupDTO' } })
  return job
}

/** Execution states that are a failure whatever the final status says (JobState.java). */
const FAILED_STATES = new Set(['FAILED', 'KILLED', 'FRAMEWORK_FAILURE', 'APP_MASTER_START_FAILED', 'INITIALIZATION_FAILED'])
/** Polls in a row of FINISHED with an UNDEFINED final status before the outcome is declared unknown. */
const UNDEFINED_POLLS = 5

function positiveInt(path: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt
  if (!Number.isInteger(n) || n < 1) throw invalidOption(path, 'a positive integer', v)
  return n
}

/**
 * Prepares a load into Hopsworks and returns its sink. Everything that can be
 * checked before data is sent is checked here: options (ETL_INVALID_OPTION,
 * ETL_COLUMN_NAME), the key (ETL_HOPSWORKS_AUTH), project and feature store
 * (ETL_HOPSWORKS), an existing feature group's schema (ETL_HOPSWORKS_SCHEMA).
 * Later: ETL_HOPSWORKS for failed calls, ETL_TIMEOUT, ETL_HOPSWORKS_JOB when
 * the job ends FAILED or KILLED, ETL_ABORTED after abort(), ETL_SINK for
 * batches whose columns differ from `options.columns`.
 */
export async function hopsworksSink(options: HopsworksSinkOptions): Promise<HopsworksSink> {
  const write = options.write ?? 'merge'
  if (write !== 'merge' && write !== 'append' && write !== 'replace') throw invalidOption('write', 'merge, append or replace', write)
  const asked = featureGroupDto(options.columns, options.featureGroup)
  const limits = partLimits(options.parts, 'hopsworks.parts')
  const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE)
  const inFlightMax = positiveInt('hopsworks.partsInFlight', options.partsInFlight, 3)
  const pollMs = options.pollIntervalMs ?? 3000
  if (!(pollMs > 0)) throw invalidOption('hopsworks.pollIntervalMs', 'a positive number', options.pollIntervalMs)
  const jobTimeoutMs = options.jobTimeoutMs ?? 2 * 3600_000
  const fvOptions = options.featureView === true ? {} : options.featureView || undefined
  if (fvOptions) featureViewPlan(fvOptions, asked.name, asked.version, asked.features.map((f) => f.name)) // options checked before any call
  const progress = options.onProgress ?? (() => {})

  const http = new HopsworksHttp(options.config, { ...options.http, ...(options.signal ? { signal: options.signal } : {}) })
  const uploads = new AbortController()
  const uploadSignal = options.signal ? AbortSignal.any([options.signal, uploads.signal]) : uploads.signal
  const uploadHttp = new HopsworksHttp(options.config, { ...options.http, signal: uploadSignal })

  const project = await api.getProject(http, options.config.project)
  const fs = await api.getFeatureStore(http, project)
  await api.assertUploadAllowed(http)
  const dto = write === 'replace' ? { ...asked, version: await api.nextVersion(http, project, fs, asked.name, asked.version) } : asked
  const fvPlan = fvOptions && featureViewPlan(fvOptions, dto.name, dto.version, dto.features.map((f) => f.name))
  const fg = await api.getOrCreateFeatureGroup(http, project, fs, dto)
  if (write === 'replace' && !fg.created)
    throw new EtlError('ETL_HOPSWORKS', `write: replace makes a new version of feature group ${dto.name}, but version ${dto.version} appeared meanwhile (another load?): nothing was sent; load again`, { details: { featureGroup: dto.name, version: dto.version } })
  if (!fg.created) assertSameSchema(dto, fg.raw, `project ${project.name}`)
  const materialization = await streamPlan(http, project, fg)
  const job = await api.createIngestionJob(http, project, fs, fg)
  const target = { projectId: project.id, featureStoreId: fs.id, featureGroupId: fg.id, created: fg.created, dataPath: job.dataPath, jobName: job.jobName }
  progress({ phase: 'ready', featureGroup: { name: fg.name, version: fg.version, id: fg.id }, created: fg.created, job: job.jobName, dataPath: job.dataPath })

  const builder = new PartBuilder(options.columns, limits)
  const inFlight = new Set<Promise<void>>()
  let failure: unknown
  let rows = 0
  let bytes = 0
  let uploaded = 0
  /** The files uploaded and their sizes, checked against the server's before the job starts. */
  const sent = new Map<string, number>()
  let state: 'open' | 'staged' | 'starting' | 'started' | 'committed' | 'aborted' = 'open'
  let checkedColumns: readonly Column[] | undefined

  const upload = async (part: Part): Promise<void> => {
    const name = `part-${String(part.index).padStart(5, '0')}.csv`
    await uploadFile(uploadHttp, project, job.dataPath, name, part.data, chunkSize)
    sent.set(name, part.data.length)
    uploaded++
    rows += part.rows
    bytes += part.data.length
    progress({ phase: 'upload', parts: uploaded, rows, bytes })
  }
  const enqueue = async (part: Part): Promise<void> => {
    if (failure) throw failure
    const p: Promise<void> = upload(part).catch((err: unknown) => { failure ??= err }).finally(() => inFlight.delete(p))
    inFlight.add(p)
    while (inFlight.size >= inFlightMax) await Promise.race(inFlight)
    if (failure) throw failure
  }
  const checkColumns = (columns: readonly Column[]): void => {
    if (columns === checkedColumns) return
    const got = columns.map((c) => c.name).join(',')
    if (got !== options.columns.map((c) => c.name).join(','))
      throw new EtlError('ETL_SINK', `the Hopsworks sink was prepared for columns ${options.columns.map((c) => c.name).join(', ')} but a batch has ${columns.map((c) => c.name).join(', ')}`)
    checkedColumns = columns
  }

  const writable = new Writable({
    objectMode: true,
    highWaterMark: 2,
    write(batch: Batch, _enc, cb) {
      ;(async () => {
        if (state === 'aborted') throw new EtlError('ETL_ABORTED', 'the Hopsworks load was aborted')
        checkColumns(batch.columns)
        assertExactForHopsworks(batch) // a value a feature type would change is refused, never loaded altered
        for (const part of builder.add(batch.rows)) await enqueue(part)
      })().then(() => cb(), cb)
    },
    final(cb) {
      ;(async () => {
        const last = builder.finish()
        if (last) await enqueue(last)
        while (inFlight.size) await Promise.race(inFlight)
        if (failure) throw failure
        if (state === 'open') state = 'staged'
      })().then(() => cb(), cb)
    },
    destroy(err, cb) {
      if (err && state === 'open') uploads.abort(err)
      cb(err)
    },
  })

  /**
   * Polls the execution to its end. The final status decides success
   * (SUCCEEDED); a failed or killed state is a failure even while the final
   * status is still UNDEFINED (YARN reports it later, or never for a killed
   * driver: HW hopsworks-persistence/.../jobs/configuration/history/JobState.java,
   * JobFinalStatus.java); FINISHED with UNDEFINED for UNDEFINED_POLLS polls in a
   * row is an error too (the outcome is unknown), not a two-hour wait.
   */
  async function waitForJob(execution: api.Execution, jobName = job.jobName, label = 'the ingestion job'): Promise<api.Execution> {
    const deadline = Date.now() + jobTimeoutMs
    let e = execution
    let finishedUndefined = 0
    for (;;) {
      progress({ phase: 'job', executionId: e.id, state: e.state, finalStatus: e.finalStatus, ...(e.progress !== undefined ? { progress: e.progress } : {}) })
      if (e.finalStatus === 'SUCCEEDED') return e
      if (e.finalStatus === 'FAILED' || e.finalStatus === 'KILLED' || FAILED_STATES.has(e.state)) {
        throw new EtlError('ETL_HOPSWORKS_JOB', `${label} ${jobName} (execution ${e.id}) ended ${e.finalStatus} (state ${e.state}): nothing was written to feature group ${fg.name} version ${fg.version}; see the job's logs in Hopsworks${e.stderrPath ? ` (${e.stderrPath})` : ''}. The uploaded files stay in ${job.dataPath} and the job ${jobName} is kept.`, { details: { job: jobName, executionId: e.id, state: e.state, finalStatus: e.finalStatus, dataPath: job.dataPath, ...(e.stderrPath ? { stderrPath: e.stderrPath } : {}) } })
      }
      finishedUndefined = e.state === 'FINISHED' ? finishedUndefined + 1 : 0
      if (finishedUndefined >= UNDEFINED_POLLS)
        throw new EtlError('ETL_HOPSWORKS_JOB', `${label} ${jobName} (execution ${e.id}) is FINISHED but its final status stayed UNDEFINED for ${UNDEFINED_POLLS} polls: whether it wrote feature group ${fg.name} version ${fg.version} is unknown. Look at the execution and the group in Hopsworks before loading again; the uploaded files stay in ${job.dataPath}.`, { details: { job: jobName, executionId: e.id, state: e.state, finalStatus: e.finalStatus, dataPath: job.dataPath, started: true } })
      if (Date.now() + pollMs > deadline)
        throw new EtlError('ETL_TIMEOUT', `${label} ${jobName} (execution ${e.id}) did not finish within ${Math.round(jobTimeoutMs / 1000)} s (last state ${e.state}); it may still be running in Hopsworks`, { details: { job: jobName, executionId: e.id, state: e.state } })
      await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => { throw new EtlError('ETL_ABORTED', 'cancelled while waiting for the ingestion job') })
      try {
        e = await api.getExecution(http, project, jobName, e.id)
      } catch (err) {
        throw lostTrack(err, e, jobName)
      }
    }
  }

  /**
   * A poll that failed after its retries: the job was started and may still
   * finish (and load the data) in Hopsworks, so the error says so instead of
   * looking like a load that never happened. Same code; cancellations pass.
   */
  function lostTrack(err: unknown, e: api.Execution, jobName = job.jobName): unknown {
    if (!(err instanceof EtlError) || err.code === 'ETL_ABORTED') return err
    return new EtlError(err.code, `the ingestion job ${jobName} (execution ${e.id}) was started, but following it failed: ${err.message}. It may still finish in Hopsworks and load the data: look at the execution there before loading again`, { cause: err, details: { ...err.details, job: jobName, executionId: e.id, started: true } })
  }

  /**
   * The suite and report to attach, resolved and checked against the server's
   * limits before the job starts: a suite Hopsworks would refuse stops the
   * load while nothing is committed yet.
   */
  async function plannedAttachment(): Promise<{ suite?: Record<string, unknown>; report?: GeValidationResult; ingestionResult: string } | undefined> {
    const attachment = typeof options.validation === 'function' ? await options.validation() : options.validation
    if (!attachment?.suite && !attachment?.report) return undefined
    const suite = attachment.suite && suiteDto(attachment.suite, fs, fg, attachment.runValidation ?? false)
    if (suite) checkSuite(suite, dto.features.map((f) => f.name))
    if (attachment.report) checkReport(attachment.report)
    return { ...(suite ? { suite } : {}), ...(attachment.report ? { report: attachment.report } : {}), ingestionResult: attachment.ingestionResult ?? 'INGESTED' }
  }

  async function commit(): Promise<LoadSummary> {
    if (state === 'aborted') throw new EtlError('ETL_ABORTED', 'the Hopsworks load was aborted; nothing to commit')
    if (state !== 'staged') throw new EtlError('ETL_SINK', state === 'open' ? 'commit() before the sink\'s input ended (end the writable and wait for it to finish first)' : 'commit() was already called')
    state = 'starting'
    let started: api.Execution
    let attachment: Awaited<ReturnType<typeof plannedAttachment>>
    let previous: api.Execution | undefined
    let commitBefore: number | undefined
    try {
      attachment = await plannedAttachment()
      await checkUploaded(http, project, job.dataPath, sent)
      // What the job ran before (nothing, unless the server reused a same-named job): a lost start is never mistaken for it.
      previous = await api.latestExecution(http, project, job.jobName)
      // the newest commit before ours (0: none yet); undefined when it cannot be read, and then the figures are unknown
      commitBefore = await api.commits(http, project, fs, fg, 1).then((c) => c[0]?.id ?? 0, () => undefined)
      started = await api.startExecution(http, project, job.jobName, previous?.id)
    } catch (err) {
      state = 'staged' // not started: abort() can still remove the staged files
      throw err
    }
    state = 'started'
    let finished: api.Execution
    try {
      finished = await waitForJob(started)
      if (materialization) await materialize(materialization)
    } catch (err) {
      // a replace that did not happen leaves no empty new version behind (unless the outcome is unknown)
      if (write === 'replace' && fg.created && err instanceof EtlError && err.code === 'ETL_HOPSWORKS_JOB' && err.details?.['finalStatus'] !== 'UNDEFINED')
        await api.deleteFeatureGroup(http, project, fs, fg).catch(() => {})
      throw err
    }
    state = 'committed'
    // From here on the data is in the feature group: nothing may fail the load (a caller would retry and load
    // again). What goes wrong becomes a warning of the summary.
    const warnings: string[] = []
    const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await f()
      } catch (err) {
        warnings.push(`${what}: ${err instanceof Error ? err.message : String(err)}`)
        return undefined
      }
    }
    const report = await attempt('the feature group\'s commit details could not be read (the load report says "unknown")', () => loadReport(commitBefore)) ?? unknownReport()
    let featureView: { name: string; version: number } | undefined
    if (fvPlan) {
      const v = await attempt('the feature view could not be made', () => ensureFeatureView(http, project, fs, fg, fvPlan))
      if (v) {
        featureView = { name: v.name, version: v.version }
        progress({ phase: 'attached', what: 'featureView' })
      }
    }
    let stored: StoredSuite | undefined
    if (attachment?.suite) {
      stored = await attempt('the expectation suite could not be attached', () => attachSuite(http, project, fs, fg, attachment.suite!))
      if (stored) progress({ phase: 'attached', what: 'expectationSuite' })
    }
    if (attachment?.report) {
      if (!stored) {
        warnings.push('the validation report was not sent: Hopsworks accepts a report only for expectations of a suite it stored, and the suite was not attached')
      } else {
        const sent = await attempt('the validation report could not be attached', async () => {
          await attachReport(http, project, fs, fg, reportDto(attachment.report!, attachment.ingestionResult, stored))
          return true
        })
        if (sent) progress({ phase: 'attached', what: 'validationReport' })
      }
    }
    // Tidy up: the one-off ingestion folder, and the job when it is ours alone (a job the server reused,
    // one made in the same second by another load, has executions of its own and is kept).
    await attempt(`the ingestion folder ${job.dataPath} could not be deleted`, () => api.deleteDatasetPath(http, project, job.dataPath))
    if (!previous) await attempt(`the ingestion job ${job.jobName} could not be deleted`, () => api.deleteJob(http, project, job.jobName))
    return {
      sink: 'hopsworks', rows, report, featureGroup: { name: fg.name, version: fg.version }, location: job.dataPath, columns: options.columns,
      job: { name: job.jobName, executionId: finished.id, finalStatus: finished.finalStatus, state: finished.state },
      ...(featureView ? { featureView } : {}),
      ...(warnings.length ? { warnings } : {}),
    }
  }

  function unknownReport(): LoadReport {
    return { write, inserted: null, updated: null, unchanged: null, deleted: null, rowsBefore: write === 'replace' ? 0 : null, rowsAfter: null }
  }

  /**
   * The load's figures from the feature group's commit details: the one commit
   * made since `before` (the newest commit id before the job started) is ours.
   * No new commit (a group without time travel, an old server), several (another
   * writer at the same time) or no `before` to compare with: the figures are
   * unknown (null), never guessed. Hopsworks tells rows inserted, updated and
   * deleted; it does not tell unchanged rows (an upsert of equal values counts as
   * updated) nor the group's total, except for a replace (a new version: 0 before).
   */
  async function loadReport(before: number | undefined): Promise<LoadReport> {
    if (before === undefined) return unknownReport()
    const since = (await api.commits(http, project, fs, fg, 10)).filter((c) => c.id > before)
    if (since.length !== 1) return unknownReport()
    const c = since[0]!
    const inserted = c.inserted ?? null
    const deleted = c.deleted ?? null
    return {
      write, inserted, updated: c.updated ?? null, unchanged: null, deleted,
      rowsBefore: write === 'replace' ? 0 : null,
      rowsAfter: write === 'replace' && inserted !== null ? inserted - (deleted ?? 0) : null,
    }
  }

  /**
   * A stream group's ingestion wrote the rows to its Kafka topic only: its
   * materialization job writes them to the offline table. Run it and wait.
   */
  async function materialize(m: { name: string; args: string }): Promise<void> {
    let e: api.Execution
    try {
      const previous = await api.latestExecution(http, project, m.name)
      e = await api.startExecution(http, project, m.name, previous?.id, m.args)
    } catch (err) {
      throw new EtlError('ETL_HOPSWORKS_JOB', `the rows reached stream feature group ${fg.name} version ${fg.version} (its topic and online store), but its materialization job ${m.name} could not be started: ${(err as Error).message}. Run that job in Hopsworks to write them to the offline table.`, { cause: err, details: { job: m.name, loaded: 'online' } })
    }
    try {
      await waitForJob(e, m.name, 'the materialization job')
    } catch (err) {
      if (!(err instanceof EtlError)) throw err
      throw new EtlError(err.code, `the rows reached stream feature group ${fg.name} version ${fg.version} (its topic and online store), but writing them to the offline table failed: ${err.message}. Run the job ${m.name} again in Hopsworks.`, { cause: err, details: { ...err.details, loaded: 'online' } })
    }
  }

  async function abort(): Promise<void> {
    if (state === 'aborted' || state === 'starting' || state === 'started' || state === 'committed') return
    state = 'aborted'
    uploads.abort(new EtlError('ETL_ABORTED', 'the Hopsworks load was aborted'))
    // A writer still attached (a running pipeline) hears why; with nobody listening, a plain destroy.
    if (!writable.destroyed) writable.destroy(writable.listenerCount('error') > 0 && !writable.writableFinished ? new EtlError('ETL_ABORTED', 'the Hopsworks load was aborted') : undefined)
    await Promise.allSettled([...inFlight])
    await api.deleteDatasetPath(http, project, job.dataPath)
    await api.deleteJob(http, project, job.jobName)
    if (write === 'replace' && fg.created) await api.deleteFeatureGroup(http, project, fs, fg)
  }

  return { writable, commit, abort, target }
}
