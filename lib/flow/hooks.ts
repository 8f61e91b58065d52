/**
 * State hooks (Prefect's on_completion / on_failure / on_cancellation): called
 * in order after the run's final state is set. A hook that throws, rejects or
 * overruns its time bound is recorded in `record.hooks` and logged; it never
 * changes the run's state.
 */
import { EtlError } from '../errors.ts'
import { errorRecord } from './context.ts'
import type { FlowLogger } from './log.ts'
import type { HookRecord, RunRecord } from './run-record.ts'

/** What a hook learns besides the record: the flow's result, or the error it ended with. */
export interface HookDetail<R> {
  readonly result?: R
  readonly error?: unknown
}

export type RunHook<R = unknown> = (record: Readonly<RunRecord>, detail: HookDetail<R>) => unknown

export type HookKind = HookRecord['hook']

export function hookList<R>(...lists: (RunHook<R> | readonly RunHook<R>[] | undefined)[]): RunHook<R>[] {
  return lists.flatMap((l) => (l === undefined ? [] : typeof l === 'function' ? [l] : [...l]))
}

/** Runs `hooks` one after another, each bounded by `timeoutMs`, recording each into `record.hooks`. Never rejects. */
export async function runHooks<R>(
  kind: HookKind, hooks: readonly RunHook<R>[], record: RunRecord, detail: HookDetail<R>, timeoutMs: number, log: FlowLogger,
): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    // An arrow function written as `onFailure: () => ...` is named after the property: not a useful name.
    const name = hook.name && hook.name !== kind ? hook.name : `#${i + 1}`
    const started = Date.now()
    let timer: NodeJS.Timeout | undefined
    try {
      const bound = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new EtlError('ETL_TIMEOUT', `hook ${kind} ${name} timed out after ${timeoutMs / 1000}s`)), timeoutMs)
      })
      await Promise.race([Promise.resolve().then(() => hook(structuredClone(record), detail)), bound])
      record.hooks.push({ hook: kind, name, ok: true, durationMs: Date.now() - started })
    } catch (err) {
      const error = errorRecord(err)
      record.hooks.push({ hook: kind, name, ok: false, durationMs: Date.now() - started, error })
      log.warn(`flow ${record.flow}: hook ${kind} ${name} failed (run state unchanged)`, { runId: record.id, code: error.code, error: error.message })
    } finally {
      clearTimeout(timer)
    }
  }
}
