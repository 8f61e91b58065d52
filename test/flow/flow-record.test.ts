import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { EtlError, registerSecret } from '../../lib/errors.ts'
import { currentRun, flow, listRuns, readRun, task, type RunRecord } from '../../lib/flow/index.ts'

const readRecord = (dataDir: string, id: string): RunRecord => JSON.parse(readFileSync(join(dataDir, 'runs', `${id}.json`), 'utf8'))

t.test('a completed run is recorded with its tasks, timings, summaries and parameters', async (t) => {
  const dataDir = t.testdir()
  registerSecret('hunter2-secret')
  const extract = task({ name: 'extract' }, async () => ({ rows: 97 }))
  const validate = task({ name: 'validate' }, async (rows: number) => ({ evaluated: 9, successful: 9, success: rows > 0 }))
  const f = flow({ name: 'etl-run' }, async (_input: void, ctx) => {
    const e = await extract()
    ctx.summarize('extract', { rows: e.rows, batches: 1 })
    const v = await validate(e.rows)
    ctx.summarize('validation', v)
    return 'done'
  })
  const outcome = await f.run(undefined, {
    dataDir, parameters: { table: 'prostate', database: 'postgres://etl:pw@db/x', token: 'a hunter2-secret b' },
  })
  t.equal(outcome.state, 'Completed')
  t.match(outcome.id, /^\d{8}T\d{9}Z-[0-9a-z]{8}$/)
  const r = readRecord(dataDir, outcome.id)
  t.same(r, outcome.record, 'the file holds the final record')
  t.equal(r.version, 1)
  t.equal(r.flow, 'etl-run')
  t.equal(r.state, 'Completed')
  t.ok(Date.parse(r.end as string) >= Date.parse(r.start))
  t.equal(r.durationMs, Date.parse(r.end as string) - Date.parse(r.start))
  t.same(r.tasks.map((x) => [x.name, x.state, x.attempts]), [['extract', 'Completed', 1], ['validate', 'Completed', 1]])
  t.same(r.summary, { extract: { rows: 97, batches: 1 }, validation: { evaluated: 9, successful: 9, success: true } })
  t.same(r.parameters, { table: 'prostate', database: 'postgres://etl:***@db/x', token: 'a *** b' })
  t.equal(r.error, undefined)
  t.equal(r.host, hostname())
  t.equal(r.pid, process.pid)
})

t.test('the record is on disk while the run goes (a crash leaves a Running record)', async (t) => {
  const dataDir = t.testdir()
  const step = task({ name: 'step' }, async () => 1)
  let during: RunRecord | undefined
  const f = flow({ name: 'partial' }, async (_: void, ctx) => {
    await step()
    ctx.summarize('extract', { rows: 5 })
    for (let i = 0; i < 50; i++) {
      const r = readRecord(dataDir, ctx.runId)
      if (r.summary.extract) {
        during = r
        break
      }
      await new Promise((res) => setTimeout(res, 10))
    }
  })
  await f.run(undefined, { dataDir })
  t.equal(during?.state, 'Running')
  t.equal(during?.end, undefined)
  t.same(during?.tasks.map((x) => x.state), ['Completed'])
})

t.test('a failed run: error code and message recorded; calling the flow rejects with the error', async (t) => {
  const dataDir = t.testdir()
  const boom = task({ name: 'connect' }, async () => {
    throw new EtlError('ETL_DB_AUTH', 'password authentication failed for postgres://etl:pw@db/x')
  })
  const f = flow({ name: 'fails' }, async () => boom())
  const outcome = await f.run(undefined, { dataDir })
  t.equal(outcome.state, 'Failed')
  t.same(outcome.record.error, { code: 'ETL_DB_AUTH', message: 'password authentication failed for postgres://etl:***@db/x' })
  t.equal(outcome.record.tasks[0]?.state, 'Failed')
  t.notMatch(readFileSync(join(dataDir, 'runs', `${outcome.id}.json`), 'utf8'), /:pw@/)
  await t.rejects(f(undefined, { dataDir }), { code: 'ETL_DB_AUTH' })
  const plain = flow({ name: 'throws' }, async () => {
    throw new RangeError('bug')
  })
  const o2 = await plain.run(undefined, { dataDir })
  t.same(o2.record.error, { code: 'ETL_INTERNAL', message: 'bug' })
  t.equal(o2.state === 'Failed' && o2.error instanceof RangeError, true, 'the outcome keeps the original error')
})

t.test('an aborted signal cancels the run: Cancelled, task Cancelled, later tasks not run', async (t) => {
  const dataDir = t.testdir()
  const ac = new AbortController()
  let secondRan = false
  const wait = task({ name: 'wait', retries: 3 }, async (_: void, ctx) => {
    setTimeout(() => ac.abort('SIGTERM'), 20)
    await once(ctx.signal, 'abort')
    throw new EtlError('ETL_ABORTED', 'stopped before input ended')
  })
  const second = task({ name: 'second' }, async () => {
    secondRan = true
  })
  const f = flow({ name: 'cancel-me' }, async () => {
    await wait().catch(() => {})
    await second()
  })
  const outcome = await f.run(undefined, { dataDir, signal: ac.signal })
  t.equal(outcome.state, 'Cancelled')
  t.same(outcome.record.error, { code: 'ETL_CANCELLED', message: 'task second cancelled: SIGTERM' })
  t.same(outcome.record.tasks.map((x) => [x.name, x.state, x.attempts]), [['wait', 'Cancelled', 1], ['second', 'Cancelled', 0]])
  t.equal(secondRan, false)
  await t.rejects(f(undefined, { dataDir, signal: ac.signal }), { code: 'ETL_CANCELLED' })
})

t.test('a cancel during a retry wait ends the wait at once', async (t) => {
  const ac = new AbortController()
  const failing = task({ name: 'failing', retries: 3, retryDelaySeconds: 30 }, async () => {
    setTimeout(() => ac.abort(), 20)
    throw new Error('down')
  })
  const f = flow({ name: 'cancel-wait' }, async () => failing())
  const t0 = performance.now()
  const outcome = await f.run(undefined, { dataDir: t.testdir(), signal: ac.signal })
  t.ok(performance.now() - t0 < 2000)
  t.equal(outcome.state, 'Cancelled')
  t.equal(outcome.record.tasks[0]?.state, 'Cancelled')
})

t.test('listRuns (newest first, limit, filters) and readRun (id, prefix)', async (t) => {
  const dataDir = t.testdir()
  const ok = flow({ name: 'a' }, async () => 1)
  const bad = flow({ name: 'b' }, async () => {
    throw new EtlError('ETL_SINK', 'nope')
  })
  const ids: string[] = []
  for (const f of [ok, bad, ok]) {
    ids.push((await f.run(undefined, { dataDir })).id)
    await new Promise((r) => setTimeout(r, 3))
  }
  const all = await listRuns(dataDir)
  t.same(all.map((r) => r.id), [...ids].reverse())
  t.same((await listRuns(dataDir, { limit: 2 })).map((r) => r.id), [ids[2], ids[1]])
  t.same((await listRuns(dataDir, { flow: 'a' })).map((r) => r.id), [ids[2], ids[0]])
  t.same((await listRuns(dataDir, { state: 'Failed' })).map((r) => r.id), [ids[1]])
  const one = await readRun(dataDir, ids[1] as string)
  t.equal(one?.state, 'Failed')
  t.equal((await readRun(dataDir, (ids[1] as string).slice(0, 24)))?.id, ids[1], 'a unique prefix')
  t.equal(await readRun(dataDir, 'nothing-like-it'), undefined)
  await t.rejects(readRun(dataDir, '../etc/passwd'), { code: 'ETL_USAGE', message: 'not a run id: "../etc/passwd"' })
  await t.rejects(readRun(dataDir, '2'), { code: 'ETL_USAGE', message: 'run id prefix 2 matches 3 runs' })
  t.same(await listRuns(join(dataDir, 'missing')), [])
})

t.test('a Running record whose process is gone reads as Crashed', async (t) => {
  const dataDir = t.testdir()
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  const pid = Number(dead.stdout)
  mkdirSync(join(dataDir, 'runs'))
  const id = '20240101T000000000Z-deadbeef'
  const record = {
    version: 1, id, flow: 'x', state: 'Running', start: '2024-01-01T00:00:00.000Z', tasks: [], summary: {}, hooks: [], notifications: [],
    host: hostname(), pid,
  }
  writeFileSync(join(dataDir, 'runs', `${id}.json`), JSON.stringify(record))
  t.equal((await readRun(dataDir, id))?.state, 'Crashed')
  t.equal((await listRuns(dataDir))[0]?.state, 'Crashed')
})

t.test('a flow called inside a flow is a subflow: its own record, with parentRunId', async (t) => {
  const dataDir = t.testdir()
  const inner = flow({ name: 'inner' }, async () => currentRun()?.runId)
  const outer = flow({ name: 'outer' }, async (_: void, ctx) => ({ outer: ctx.runId, inner: await inner() }))
  const o = await outer.run(undefined, { dataDir })
  t.equal(o.state, 'Completed')
  const result = o.state === 'Completed' ? o.result : undefined
  t.not(result?.inner, result?.outer)
  const innerRecord = await readRun(dataDir, result?.inner as string)
  t.equal(innerRecord?.parentRunId, o.id)
  t.equal(innerRecord?.flow, 'inner')
})

t.test('a data folder that cannot be written: the run does not start (ETL_DATA_DIR)', async (t) => {
  const dir = t.testdir({ file: 'not a folder' })
  let ran = false
  const f = flow({ name: 'x' }, async () => {
    ran = true
  })
  await t.rejects(f.run(undefined, { dataDir: join(dir, 'file') }), { code: 'ETL_DATA_DIR' })
  t.equal(ran, false)
})

t.test('flow and run options are checked', async (t) => {
  t.throws(() => flow({ name: 'x', onFailure: 'nope' } as never, async () => 1), {
    code: 'ETL_INVALID_OPTION', message: 'Invalid option flow.onFailure: expected a function or a list of functions, got "string"',
  })
  const f = flow({ name: 'x' }, async () => 1)
  await t.rejects(f.run(undefined, { dataDir: t.testdir(), retries: 2 } as never), { code: 'ETL_INVALID_OPTION' })
  await t.rejects(f.run(undefined, { dataDir: t.testdir(), webhooks: ['ftp://x'] }), {
    message: 'Invalid option run.webhooks[0].url: expected an http(s) URL, got "ftp://x"',
  })
})
