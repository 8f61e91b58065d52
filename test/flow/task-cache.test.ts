import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { flow, task, taskInputHash } from '../../lib/flow/index.ts'

function counting(options: Partial<Parameters<typeof task<{ table: string }, { rows: number; table: string }>>[0]> = {}) {
  const calls: string[] = []
  const extract = task<{ table: string }, { rows: number; table: string }>(
    { name: 'extract', cacheKeyFn: taskInputHash, ...options },
    async (input) => {
      calls.push(input.table)
      return { rows: 97, table: input.table }
    },
  )
  const f = flow({ name: 'cached' }, async (input: { table: string }) => extract(input))
  return { calls, f }
}

t.test('an unchanged step is skipped on the next run and says so', async (t) => {
  const dataDir = t.testdir()
  const { calls, f } = counting({ cacheExpirationSeconds: 3600 })
  const first = await f.run({ table: 'prostate' }, { dataDir })
  t.equal(first.record.tasks[0]?.state, 'Completed')
  t.equal(first.record.tasks[0]?.cached, undefined)
  const key = first.record.tasks[0]?.cacheKey
  t.match(key, /^[0-9a-f]{40}$/)
  const file = join(dataDir, 'cache', `${key}.json`)
  t.ok(existsSync(file))
  t.same(readdirSync(join(dataDir, 'cache')), [`${key}.json`], 'no temporary file left')
  const entry = JSON.parse(readFileSync(file, 'utf8'))
  t.same(entry.result, { rows: 97, table: 'prostate' })
  t.equal(entry.task, 'extract')

  const second = await f.run({ table: 'prostate' }, { dataDir })
  t.same(calls, ['prostate'], 'the function ran once')
  t.equal(second.state === 'Completed' && second.result.rows, 97)
  t.equal(second.record.tasks[0]?.state, 'Cached')
  t.equal(second.record.tasks[0]?.cached, true)
  t.equal(second.record.tasks[0]?.attempts, 0)
  const onDisk = JSON.parse(readFileSync(join(dataDir, 'runs', `${second.id}.json`), 'utf8'))
  t.equal(onDisk.tasks[0].cached, true)

  await f.run({ table: 'other' }, { dataDir })
  t.same(calls, ['prostate', 'other'], 'another input is another key')
})

t.test('the input hash ignores key order', async (t) => {
  t.equal(taskInputHash({ a: 1, b: [1, { c: 2, d: 3 }] }), taskInputHash({ b: [1, { d: 3, c: 2 }], a: 1 }))
  t.not(taskInputHash({ a: 1 }), taskInputHash({ a: 2 }))
})

t.test('an entry expires (fake clock)', async (t) => {
  const dataDir = t.testdir()
  const { calls, f } = counting({ cacheExpirationSeconds: 60 })
  const t0 = Date.parse('2024-05-01T10:00:00Z')
  await f.run({ table: 'p' }, { dataDir, now: () => t0 })
  const hit = await f.run({ table: 'p' }, { dataDir, now: () => t0 + 59_000 })
  t.equal(hit.record.tasks[0]?.state, 'Cached')
  t.equal(hit.record.tasks[0]?.cacheExpires, '2024-05-01T10:01:00.000Z')
  const miss = await f.run({ table: 'p' }, { dataDir, now: () => t0 + 61_000 })
  t.equal(miss.record.tasks[0]?.state, 'Completed')
  t.same(calls, ['p', 'p'])
  t.equal(miss.record.tasks[0]?.cacheExpires, '2024-05-01T10:02:01.000Z', 'rewritten with a new expiry')
})

t.test('refreshCache, cacheValid and a null key run the function', async (t) => {
  const dataDir = t.testdir()
  const a = counting()
  await a.f.run({ table: 'p' }, { dataDir })
  await a.f.run({ table: 'p' }, { dataDir, refreshCache: true })
  t.same(a.calls, ['p', 'p'])

  const b = counting({ cacheValid: (r) => r.rows > 100 })
  await b.f.run({ table: 'q' }, { dataDir })
  await b.f.run({ table: 'q' }, { dataDir })
  t.same(b.calls, ['q', 'q'])

  const c = counting({ cacheKeyFn: () => null })
  await c.f.run({ table: 'r' }, { dataDir })
  const again = await c.f.run({ table: 'r' }, { dataDir })
  t.same(c.calls, ['r', 'r'])
  t.equal(again.record.tasks[0]?.cacheKey, undefined)
})

t.test('a failed attempt is not cached', async (t) => {
  const dataDir = t.testdir()
  let calls = 0
  const flaky = task({ name: 'flaky', cacheKeyFn: () => 'k', dataDir }, async () => {
    if (++calls === 1) throw new Error('first fails')
    return calls
  })
  await t.rejects(flaky())
  t.equal(await flaky(), 2)
  t.equal(await flaky(), 2, 'outside a flow, with dataDir, the cache works too')
})

t.test('a result that is not JSON is not cached (logged), and the task still completes', async (t) => {
  const dataDir = t.testdir()
  const warnings: string[] = []
  const log = { info() {}, warn: (m: string, f?: Readonly<Record<string, unknown>>) => warnings.push(`${m}: ${String(f?.error)}`), error() {} }
  const big = task({ name: 'big', cacheKeyFn: () => 'k', dataDir, log }, async () => ({ n: 10n }))
  t.same(await big(), { n: 10n })
  t.match(warnings[0], /^task big: result not cached: task big: result cannot be cached as JSON/)
  const badKey = task({ name: 'bad-key', cacheKeyFn: () => {
    throw new Error('no key')
  }, dataDir }, async () => 1)
  await t.rejects(badKey(), { message: 'no key' })
})
