import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { flow, readRun, schedule, task, type ScheduleEvent } from '../../lib/flow/index.ts'

const collect = () => {
  const lines: string[] = []
  const push = (m: string, f?: Readonly<Record<string, unknown>>) => lines.push(f?.runId ? `${m} [${String(f.runId)}]` : m)
  return { lines, log: { info: push, warn: push, error: push } }
}

t.test('a seconds cron fires a flow, never two runs at once; a tick during a run is skipped; abort cancels the run', async (t) => {
  const dataDir = t.testdir()
  const ac = new AbortController()
  const { lines, log } = collect()
  let running = 0
  let maxRunning = 0
  const work = task({ name: 'work' }, async (_: void, ctx) => {
    running++
    maxRunning = Math.max(maxRunning, running)
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 1500)
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(new EtlError('ETL_ABORTED', 'stopped'))
        })
      })
    } finally {
      running--
    }
  })
  const etl = flow({ name: 'scheduled' }, async () => work())
  const events: ScheduleEvent[] = []
  const t0 = Date.now()
  const summary = await schedule('* * * * * *', (tick) => etl.run(undefined, { dataDir, signal: tick.signal, log }), {
    signal: ac.signal,
    log,
    timezone: 'utc',
    onRun: (e) => {
      events.push(e)
      if (e.type === 'started' && e.index === 2) setTimeout(() => ac.abort('SIGTERM'), 300)
    },
  })
  t.ok(Date.now() - t0 < 8000)
  t.equal(maxRunning, 1, 'never overlapping')
  t.equal(summary.started, 2)
  t.ok(summary.skipped >= 1, `skipped ${summary.skipped}`)
  const kinds = events.map((e) => (e.type === 'finished' ? `finished ${e.index} ${e.state}` : e.type === 'started' ? `started ${e.index}` : 'skipped'))
  t.equal(kinds[0], 'started 1')
  t.equal(kinds[1], 'skipped')
  t.ok(kinds.indexOf('finished 1 Completed') < kinds.indexOf('started 2'))
  t.equal(kinds.at(-1), 'finished 2 Cancelled', 'the run in progress was cancelled, and waited for')
  for (const e of events) if (e.type !== 'finished') t.equal(e.scheduledAt.getUTCMilliseconds(), 0, 'ticks on whole seconds')
  const finished = events.filter((e) => e.type === 'finished')
  for (const e of finished) {
    t.match(e.runId, /^\d{8}T\d{9}Z-/)
    t.ok(lines.some((l) => l.includes(`run ${e.index} (${e.runId}) ended ${e.state}`)), `run id ${e.runId} logged`)
  }
  t.equal((await readRun(dataDir, finished[1]?.runId as string))?.state, 'Cancelled')
  t.ok(lines.some((l) => /tick .* skipped, run 1 still going/.test(l)))
  t.ok(lines.includes('schedule "* * * * * *": stopping, cancelling run 2'))
})

t.test("onStop 'wait' lets the run in progress finish", async (t) => {
  const ac = new AbortController()
  let tickSignal: AbortSignal | undefined
  const events: ScheduleEvent[] = []
  const summary = await schedule(
    '* * * * * *',
    async (tick) => {
      tickSignal = tick.signal
      setTimeout(() => ac.abort(), 50)
      await new Promise((r) => setTimeout(r, 400))
      return { id: 'r1', state: 'Completed' }
    },
    { signal: ac.signal, onStop: 'wait', onRun: (e) => events.push(e) },
  )
  t.same(summary, { started: 1, completed: 1, failed: 0, cancelled: 0, skipped: 0, stoppedBy: 'signal' })
  t.equal(tickSignal?.aborted, false)
  t.match(events.at(-1), { type: 'finished', index: 1, runId: 'r1', state: 'Completed' })
})

t.test('a job that rejects is logged and counted; the schedule goes on', async (t) => {
  const ac = new AbortController()
  const { lines, log } = collect()
  let calls = 0
  const summary = await schedule(
    '* * * * * *',
    async () => {
      if (++calls === 2) ac.abort()
      throw new EtlError('ETL_DB_CONNECT', 'connection refused')
    },
    { signal: ac.signal, log },
  )
  t.same(summary, { started: 2, completed: 0, failed: 2, cancelled: 0, skipped: 0, stoppedBy: 'signal', lastFailure: { index: 2, exitCode: 1, code: 'ETL_DB_CONNECT' } })
  t.ok(lines.includes('schedule "* * * * * *": run 1 failed before it was recorded: ETL_DB_CONNECT connection refused'))
  t.ok(lines.includes('schedule "* * * * * *": run 1 ended Failed, exit 1, ETL_DB_CONNECT (1 failure(s) in a row)'))
})

t.test('stops at once when aborted before the first tick; refuses a bad expression', async (t) => {
  const ac = new AbortController()
  const t0 = Date.now()
  setTimeout(() => ac.abort(), 20)
  t.same(await schedule('0 0 1 1 *', async () => {}, { signal: ac.signal }), { started: 0, completed: 0, failed: 0, cancelled: 0, skipped: 0, stoppedBy: 'signal' })
  t.ok(Date.now() - t0 < 500)
  await t.rejects(schedule('0 0 30 2 *', async () => {}), { code: 'ETL_INVALID_OPTION' })
  await t.rejects(schedule('* * * * *', async () => {}, { onStop: 'later' } as never), {
    message: 'Invalid option schedule.onStop: expected \'cancel\' or \'wait\', got "later"',
  })
  const pre = new AbortController()
  pre.abort()
  t.same(await schedule('* * * * * *', async () => {}, { signal: pre.signal }), { started: 0, completed: 0, failed: 0, cancelled: 0, skipped: 0, stoppedBy: 'signal' })
})

t.test('maxFailures: the schedule stops after N failed runs in a row; a completed run resets the count', async (t) => {
  const { lines, log } = collect()
  const results = [3, 3, 0, 3, 2, 1]
  const events: ScheduleEvent[] = []
  const summary = await schedule('* * * * * *', async (tick) => {
    const exitCode = results[tick.index - 1] ?? 0
    return { id: `r${tick.index}`, state: exitCode ? 'Failed' : 'Completed', exitCode, ...(exitCode ? { code: exitCode === 3 ? 'ETL_QUALITY_GATE' : 'ETL_CONFIG' } : {}) }
  }, { maxFailures: 3, log, onRun: (e) => events.push(e) })
  t.match(summary, { started: 6, completed: 1, failed: 5, stoppedBy: 'max-failures', lastFailure: { index: 6, runId: 'r6', exitCode: 1 } })
  t.same(events.filter((e) => e.type === 'finished').map((e) => (e.type === 'finished' ? e.consecutiveFailures : -1)), [1, 2, 0, 1, 2, 3])
  t.ok(lines.includes('schedule "* * * * * *": 3 failures in a row (--max-failures 3): stopping'))
  await t.rejects(schedule('* * * * *', async () => {}, { maxFailures: 0 }), { code: 'ETL_INVALID_OPTION' })
})
