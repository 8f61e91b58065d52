import { once } from 'node:events'
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { flow, task } from '../../lib/flow/index.ts'

t.test('an attempt that overruns fails with ETL_TIMEOUT and its signal aborts', async (t) => {
  let reason: unknown
  const slow = task({ name: 'slow', timeoutSeconds: 0.1 }, async (_: void, ctx) => {
    await once(ctx.signal, 'abort')
    reason = ctx.signal.reason
    throw new Error('stopped')
  })
  const t0 = performance.now()
  await t.rejects(slow(), { code: 'ETL_TIMEOUT', message: 'task slow (attempt 1) timed out after 0.1s' })
  t.ok(performance.now() - t0 < 1000)
  t.equal((reason as EtlError).code, 'ETL_TIMEOUT')
})

t.test('a function ignoring its signal is still bounded, and the timeout is retried', async (t) => {
  let calls = 0
  const stubborn = task({ name: 'stubborn', timeoutSeconds: 0.1, retries: 1, retryDelaySeconds: 0 }, async () => {
    if (++calls === 1) await new Promise((r) => setTimeout(r, 400)) // ignores the signal
    return calls
  })
  const f = flow({ name: 'timeouts' }, async () => stubborn())
  const t0 = performance.now()
  const outcome = await f.run(undefined, { dataDir: t.testdir() })
  t.ok(performance.now() - t0 < 380, 'did not wait for the first attempt')
  t.equal(outcome.state === 'Completed' && outcome.result, 2)
  t.same(outcome.record.tasks[0]?.attemptLog.map((a) => a.error?.code), ['ETL_TIMEOUT', undefined])
  t.equal(outcome.record.tasks[0]?.attemptLog[0]?.error?.message, 'task stubborn (attempt 1) timed out after 0.1s')
  await new Promise((r) => setTimeout(r, 350)) // let the abandoned attempt end before teardown
})

t.test('a last attempt that times out leaves the task Failed with ETL_TIMEOUT', async (t) => {
  const hang = task({ name: 'hang', timeoutSeconds: 0.05 }, (_: void, ctx) => once(ctx.signal, 'abort').then(() => 0))
  const f = flow({ name: 'timeout-fails' }, async () => hang())
  const outcome = await f.run(undefined, { dataDir: t.testdir() })
  t.equal(outcome.state, 'Failed')
  t.equal(outcome.record.tasks[0]?.state, 'Failed')
  t.equal(outcome.record.error?.code, 'ETL_TIMEOUT')
})
