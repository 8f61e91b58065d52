import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { flow, type RunRecord } from '../../lib/flow/index.ts'

t.test('onCompletion gets the final record and the result; onFailure is not called', async (t) => {
  const calls: string[] = []
  let seen: { state?: string; result?: unknown } = {}
  const f = flow(
    {
      name: 'hooked',
      onCompletion: function announce(record, detail) {
        calls.push('completion')
        seen = { state: record.state, result: detail.result }
      },
      onFailure: () => calls.push('failure'),
    },
    async () => 42,
  )
  const o = await f.run(undefined, { dataDir: t.testdir(), onCompletion: async () => calls.push('run-level completion') })
  t.same(calls, ['completion', 'run-level completion'], 'flow hooks first, then the run\'s, in order')
  t.same(seen, { state: 'Completed', result: 42 })
  t.same(o.record.hooks.map((h) => [h.hook, h.name, h.ok]), [['onCompletion', 'announce', true], ['onCompletion', '#2', true]])
})

t.test('onFailure gets the error; a throwing hook is recorded and does not change the state', async (t) => {
  const dataDir = t.testdir()
  let error: unknown
  const warnings: string[] = []
  const f = flow(
    {
      name: 'failing',
      log: { info() {}, warn: (m: string) => warnings.push(m), error() {} },
      onFailure: [
        (_r, d) => {
          error = d.error
        },
        function broken() {
          throw new Error('hook exploded')
        },
      ],
      onCompletion: () => {
        throw new Error('never called')
      },
    },
    async () => {
      throw new EtlError('ETL_DB_QUERY', 'relation "prostate" does not exist')
    },
  )
  const o = await f.run(undefined, { dataDir })
  t.equal(o.state, 'Failed')
  t.equal((error as EtlError).code, 'ETL_DB_QUERY')
  t.same(o.record.hooks, [
    { hook: 'onFailure', name: '#1', ok: true, durationMs: o.record.hooks[0]?.durationMs },
    { hook: 'onFailure', name: 'broken', ok: false, durationMs: o.record.hooks[1]?.durationMs, error: { code: 'ETL_INTERNAL', message: 'hook exploded' } },
  ])
  const onDisk: RunRecord = JSON.parse(readFileSync(join(dataDir, 'runs', `${o.id}.json`), 'utf8'))
  t.equal(onDisk.state, 'Failed')
  t.equal(onDisk.hooks[1]?.ok, false)
  t.ok(warnings.includes('flow failing: hook onFailure broken failed (run state unchanged)'))
})

t.test('a completed run with a failing onCompletion hook stays Completed', async (t) => {
  const f = flow({ name: 'ok', onCompletion: async () => Promise.reject(new EtlError('ETL_WEBHOOK', 'slack down')) }, async () => 'fine')
  const o = await f.run(undefined, { dataDir: t.testdir() })
  t.equal(o.state, 'Completed')
  t.same(o.record.hooks[0]?.error, { code: 'ETL_WEBHOOK', message: 'slack down' })
  t.equal(await f(undefined, { dataDir: t.testdir() }), 'fine')
})

t.test('onCancellation on a cancelled run; a hook that hangs is bounded', async (t) => {
  const ac = new AbortController()
  ac.abort()
  const calls: string[] = []
  const f = flow(
    {
      name: 'cancelled',
      hookTimeoutSeconds: 0.05,
      onCancellation: [() => new Promise(() => {}), () => calls.push('cancellation')],
      onFailure: () => calls.push('failure'),
    },
    async (_: void, ctx) => {
      ctx.signal.throwIfAborted()
    },
  )
  const o = await f.run(undefined, { dataDir: t.testdir(), signal: ac.signal })
  t.equal(o.state, 'Cancelled')
  t.same(calls, ['cancellation'])
  t.same(o.record.hooks.map((h) => [h.hook, h.ok, h.error?.code]), [['onCancellation', false, 'ETL_TIMEOUT'], ['onCancellation', true, undefined]])
})

t.test('hooks get a copy: they cannot change the record', async (t) => {
  const f = flow(
    {
      name: 'copy',
      onCompletion: (r) => {
        ;(r as RunRecord).state = 'Failed'
      },
    },
    async () => 1,
  )
  const o = await f.run(undefined, { dataDir: t.testdir() })
  t.equal(o.record.state, 'Completed')
})
