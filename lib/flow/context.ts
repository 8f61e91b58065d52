/**
 * The state of one flow run, shared by the flow function and every task it
 * calls (found through AsyncLocalStorage, so a task called anywhere inside
 * the flow function, however deep, records itself into the right run).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { asEtlError, redact } from '../errors.ts'
import type { FlowLogger } from './log.ts'
import type { RecordWriter } from './run-store.ts'
import type { ErrorRecord, RunRecord, TaskRunRecord } from './run-record.ts'

/** What a flow function (and, through `currentRun()`, any code inside it) sees of its run. */
export interface FlowContext {
  readonly runId: string
  readonly flowName: string
  /** Aborts when the run is cancelled. Pass it on to streams (`pipeline(..., { signal })`) and requests. */
  readonly signal: AbortSignal
  readonly dataDir: string
  readonly log: FlowLogger
  /** Sets `summary[stage]` in the run record (a JSON copy of `value`) and saves the record. */
  summarize(stage: string, value: unknown): void
  /** The summaries so far. */
  readonly summary: Readonly<Record<string, unknown>>
}

export class RunContext implements FlowContext {
  readonly record: RunRecord
  readonly signal: AbortSignal
  readonly dataDir: string
  readonly log: FlowLogger
  readonly now: () => number
  readonly refreshCache: boolean
  readonly writer: RecordWriter
  readonly #taskNames = new Map<string, number>()

  constructor(init: {
    record: RunRecord
    signal: AbortSignal
    dataDir: string
    log: FlowLogger
    now: () => number
    refreshCache: boolean
    writer: RecordWriter
  }) {
    this.record = init.record
    this.signal = init.signal
    this.dataDir = init.dataDir
    this.log = init.log
    this.now = init.now
    this.refreshCache = init.refreshCache
    this.writer = init.writer
  }

  get runId(): string {
    return this.record.id
  }

  get flowName(): string {
    return this.record.flow
  }

  get summary(): Readonly<Record<string, unknown>> {
    return this.record.summary
  }

  summarize(stage: string, value: unknown): void {
    this.record.summary[stage] = jsonCopy(value)
    this.writer.save()
  }

  /** Adds a task run to the record, named `name`, or `name#n` for the n-th call of the same name. */
  addTask(name: string, start: string): TaskRunRecord {
    const n = (this.#taskNames.get(name) ?? 0) + 1
    this.#taskNames.set(name, n)
    const task: TaskRunRecord = { name: n === 1 ? name : `${name}#${n}`, state: 'Running', attempts: 0, start, attemptLog: [] }
    this.record.tasks.push(task)
    this.writer.save()
    return task
  }

  save(): void {
    this.writer.save()
  }
}

const storage = new AsyncLocalStorage<RunContext>()

/** The flow run the caller is inside of, if any. */
export function currentRun(): FlowContext | undefined {
  return storage.getStore()
}

export function currentRunContext(): RunContext | undefined {
  return storage.getStore()
}

export function runInside<R>(context: RunContext, fn: () => Promise<R>): Promise<R> {
  return storage.run(context, fn)
}

/** An error as the record keeps it: code and redacted message. */
export function errorRecord(err: unknown): ErrorRecord {
  const e = asEtlError(err)
  return { code: e.code, message: redact(e.message) }
}

/**
 * A JSON copy with every string passed through redact() (drops functions and
 * undefined, turns Dates into strings); a value that is not JSON becomes its string.
 */
export function jsonCopy(value: unknown): unknown {
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : typeof v === 'string' ? redact(v) : v))
    return text === undefined ? null : (JSON.parse(text) as unknown)
  } catch {
    return redact(String(value))
  }
}
