import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { flow, retryDelayMs, task, type RunRecord } from '../../lib/flow/index.ts'

t.test('a function that fails twice then works: 3 attempts, backoff delays observed and recorded', async (t) => {
  const dataDir = t.testdir()
  const seen: number[] = []
  const flaky = task({ name: 'extract', retries: 3, retryDelaySeconds: 0.1 }, async (input: { table: string }, ctx) => {
    seen.push(performance.now())
    if (ctx.attempt < 3) throw new EtlError('ETL_DB_CONNECT', `connect ECONNREFUSED (attempt ${ctx.attempt})`)
    return { rows: 97, table: input.table }
  })
  const f = flow({ name: 'retry-flow' }, async () => flaky({ table: 'prostate' }))
  const outcome = await f.run(undefined, { dataDir })
  t.equal(outcome.state, 'Completed')
  t.same(outcome.state === 'Completed' && outcome.result, { rows: 97, table: 'prostate' })
  t.equal(seen.length, 3)
  const [a, b, c] = seen as [number, number, number]
  // exponential: 0.1 s then 0.2 s, each times a jitter factor in [1, 1.2]
  t.ok(b - a >= 99 && b - a < 600, `first wait ${b - a} ms`)
  t.ok(c - b >= 199 && c - b < 800, `second wait ${c - b} ms`)
  const rec = outcome.record.tasks[0]
  t.equal(rec?.state, 'Completed')
  t.equal(rec?.attempts, 3)
  const delays = rec?.attemptLog.map((x) => x.retryDelayMs)
  t.ok(delays?.[0] !== undefined && delays[0] >= 100 && delays[0] <= 120, `recorded ${delays?.[0]}`)
  t.ok(delays?.[1] !== undefined && delays[1] >= 200 && delays[1] <= 240, `recorded ${delays?.[1]}`)
  t.equal(delays?.[2], undefined)
  t.same(rec?.attemptLog.map((x) => x.error?.code), ['ETL_DB_CONNECT', 'ETL_DB_CONNECT', undefined])
})

t.test('a list of delays is used as given (no jitter), the last one repeating', async (t) => {
  let calls = 0
  const failing = task({ name: 'load', retries: 3, retryDelaySeconds: [0.02, 0.05] }, async () => {
    calls++
    throw new EtlError('ETL_HOPSWORKS', 'HTTP 503')
  })
  const f = flow({ name: 'list-delays' }, async () => failing())
  const outcome = await f.run(undefined, { dataDir: t.testdir() })
  t.equal(outcome.state, 'Failed')
  t.equal(calls, 4)
  const rec = outcome.record.tasks[0]
  t.same(rec?.attemptLog.map((x) => x.retryDelayMs), [20, 50, 50, undefined])
  t.equal(rec?.state, 'Failed')
  t.same(rec?.error, { code: 'ETL_HOPSWORKS', message: 'HTTP 503' })
  t.same(outcome.record.error, { code: 'ETL_HOPSWORKS', message: 'HTTP 503' })
})

t.test('a delay function gets the failed attempt number', async (t) => {
  const asked: number[] = []
  let calls = 0
  const fn = task({ name: 'f', retries: 2, retryDelaySeconds: (n) => (asked.push(n), n / 100) }, async () => {
    if (++calls < 3) throw new Error('boom')
    return 'ok'
  })
  t.equal(await fn(), 'ok')
  t.same(asked, [1, 2])
})

t.test('retryOn refusing: no second attempt for a step that may have loaded rows', async (t) => {
  let calls = 0
  const lines: string[] = []
  const log = { info: () => {}, warn: (m: string) => lines.push(m), error: () => {} }
  const load = task(
    { name: 'load', retries: 5, retryDelaySeconds: 0.01, retryOn: (err) => !(err instanceof EtlError && Number(err.details?.committed) > 0) },
    async () => {
      calls++
      throw new EtlError('ETL_HOPSWORKS', 'ingestion job failed', { details: { committed: 10 } })
    },
  )
  const f = flow({ name: 'refuse', log }, async () => load())
  const outcome = await f.run(undefined, { dataDir: t.testdir() })
  t.equal(calls, 1)
  t.equal(outcome.state, 'Failed')
  t.equal(outcome.record.tasks[0]?.attempts, 1)
  t.ok(lines.includes('task load: not retried (retryOn refused)'))
  t.equal(outcome.state === 'Failed' && (outcome.error as EtlError).code, 'ETL_HOPSWORKS')
})

t.test('by default usage, configuration and quality-gate errors are not retried; other errors are', async (t) => {
  for (const [code, expected] of [['ETL_CONFIG', 1], ['ETL_QUALITY_GATE', 1], ['ETL_DB_QUERY', 3], ['ETL_TIMEOUT', 3]] as const) {
    let calls = 0
    const fn = task({ name: code, retries: 2 }, async () => {
      calls++
      throw new EtlError(code, 'x')
    })
    await t.rejects(fn(), { code })
    t.equal(calls, expected, code)
  }
  let calls = 0
  const plain = task({ name: 'plain', retries: 1 }, async () => {
    calls++
    throw new TypeError('not an EtlError')
  })
  await t.rejects(plain(), TypeError)
  t.equal(calls, 2)
})

t.test('retryDelayMs: exponential times jitter, capped', async (t) => {
  t.equal(retryDelayMs(1, 1, { random: () => 0 }), 1000)
  t.equal(retryDelayMs(1, 3, { random: () => 0.5 }), 4400) // 1 * 2^2 * (1 + 0.5 * 0.2)
  t.equal(retryDelayMs(1, 3, { random: () => 0.5, jitter: 0 }), 4000)
  t.equal(retryDelayMs(10, 10, { random: () => 0 }), 300_000)
  t.equal(retryDelayMs(10, 10, { random: () => 0, maxSeconds: 30 }), 30_000)
  t.equal(retryDelayMs([1, 2], 5), 2000)
  t.equal(retryDelayMs(() => Number.NaN, 1), 0)
})

t.test('options are checked when the task is made', async (t) => {
  t.throws(() => task({ name: 'x', retries: -1 }, async () => 1), {
    code: 'ETL_INVALID_OPTION', message: 'Invalid option task.retries: expected an integer >= 0, got -1',
  })
  t.throws(() => task({ name: 'x', retryDelaySeconds: [] }, async () => 1), { code: 'ETL_INVALID_OPTION' })
  t.throws(() => task({ name: 'x', timeoutSeconds: 0 }, async () => 1), {
    message: 'Invalid option task.timeoutSeconds: expected a number > 0, got 0',
  })
  t.throws(() => task({ name: '' }, async () => 1), { message: 'Invalid option task.name: expected a non-empty string, got ""' })
  t.throws(() => task({ name: 'x', retry: 3 } as unknown as { name: string }, async () => 1), {
    code: 'ETL_INVALID_OPTION', message: /^Invalid option task\.retry: expected one of name, retries/,
  })
})

t.test('a task called twice in one run is recorded twice', async (t) => {
  const echo = task({ name: 'echo' }, async (x: number) => x)
  const f = flow({ name: 'twice' }, async () => (await echo(1)) + (await echo(2)))
  const outcome = await f.run(undefined, { dataDir: t.testdir() })
  t.equal(outcome.state === 'Completed' && outcome.result, 3)
  t.same(outcome.record.tasks.map((x: RunRecord['tasks'][number]) => [x.name, x.state]), [['echo', 'Completed'], ['echo#2', 'Completed']])
})

t.test('an error marked retryable: false is never retried, whatever retryOn says', async (t) => {
  let calls = 0
  const lines: string[] = []
  const commit = task({ name: 'commit', retries: 3, retryOn: () => true, log: { info() {}, warn: (m: string) => lines.push(m), error() {} } }, async () => {
    calls++
    throw new EtlError('ETL_HOPSWORKS_JOB', 'ingestion job failed after it started', { details: { retryable: false } })
  })
  await t.rejects(commit(), { code: 'ETL_HOPSWORKS_JOB' })
  t.equal(calls, 1)
  t.same(lines, ['task commit: not retried (the error says a retry is unsafe)'])
})

t.test('withOptions: the same function with other retries (command-line flags)', async (t) => {
  let calls = 0
  const base = task({ name: 'extract' }, async () => {
    if (++calls < 3) throw new EtlError('ETL_DB_CONNECT', 'refused')
    return 'rows'
  })
  await t.rejects(base(), { code: 'ETL_DB_CONNECT' })
  calls = 0
  const configured = base.withOptions({ retries: 2, retryDelaySeconds: 0 })
  t.equal(configured.taskName, 'extract')
  t.equal(await configured(), 'rows')
  t.throws(() => base.withOptions({ retries: 1.5 }), { code: 'ETL_INVALID_OPTION' })
})
