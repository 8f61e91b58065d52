import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { acquireLock, currentHolder, isAlive, liveness, processStart } from '../../lib/load/lock.ts'

const holderScript = fileURLToPath(new URL('../support/lock-holder.ts', import.meta.url))

async function folder(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-lock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

interface Holder { child: ChildProcess; lines: string[]; line(prefix: string): Promise<string>; done: Promise<number | null> }

function holder(args: string[]): Holder {
  const child = spawn(process.execPath, [holderScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  const waiters: [string, (l: string) => void][] = []
  let buf = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i)
      buf = buf.slice(i + 1)
      lines.push(l)
      for (const w of waiters.splice(0)) if (l.startsWith(w[0])) w[1](l)
        else waiters.push(w)
    }
  })
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    lines,
    done,
    line: (prefix) => {
      const had = lines.find((l) => l.startsWith(prefix))
      return had !== undefined ? Promise.resolve(had) : new Promise((resolve) => waiters.push([prefix, resolve]))
    },
  }
}

t.test('a second process waits for the holder, then takes the lock; with a short timeout it is refused, naming the holder', async (t) => {
  const dir = await folder(t)
  const lock = join(dir, 'group.lock')
  const a = holder([lock, 'run-a', '1500', '0'])
  await a.line('took')
  const refused = holder([lock, 'run-c', '0', '200'])
  const b = holder([lock, 'run-b', '0', '10000'])
  t.equal(await refused.done, 1)
  t.match(refused.lines.join('\n'), new RegExp(`^refused ETL_LOCKED ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is locked by run run-a \\(pid ${a.child.pid} on host ${hostname()}, since .*\\) \\(waited 0 s, --lock-timeout\\)$`))
  t.equal(await a.done, 0)
  t.equal(await b.done, 0)
  const released = Number(a.lines.find((l) => l.startsWith('released'))!.split(' ')[1])
  const took = Number(b.lines.find((l) => l.startsWith('took'))!.split(' ')[1])
  t.ok(took >= released, 'the waiter took the lock only after the holder let it go')
  t.same((await readdir(dir)).sort(), [], 'no lock or temporary file left')
})

t.test('four processes contending for 10 rounds each: never two holders (no lost update)', async (t) => {
  const dir = await folder(t)
  const lock = join(dir, 'group.lock')
  const counter = join(dir, 'counter')
  await writeFile(counter, '0')
  const all = Array.from({ length: 4 }, (_, i) => holder([lock, `run-${i}`, '5', '30000', counter, '10']))
  t.same(await Promise.all(all.map((h) => h.done)), [0, 0, 0, 0])
  t.equal(await readFile(counter, 'utf8'), '40')
  t.same((await readdir(dir)).sort(), ['counter'])
})

t.test('the lock of a process killed with SIGKILL is recovered at once by the next taker', async (t) => {
  const dir = await folder(t)
  const lock = join(dir, 'group.lock')
  const a = holder([lock, 'run-killed', '-1', '0'])
  await a.line('took')
  const left = JSON.parse(await readFile(lock, 'utf8'))
  t.match(left, { host: hostname(), pid: a.child.pid, runId: 'run-killed', start: processStart(a.child.pid!) })
  t.equal(liveness(left), 'alive')
  a.child.kill('SIGKILL')
  await a.done
  t.equal(liveness(left), 'dead')
  const mine = await acquireLock(lock, { runId: 'run-next', timeoutMs: 0 })
  t.match(JSON.parse(await readFile(lock, 'utf8')), { pid: process.pid, runId: 'run-next' })
  await mine.release()
  t.same(await readdir(dir), [])
})

t.test('liveness: a reused pid (same pid, another start time) is dead; another host cannot be judged', async (t) => {
  const me = currentHolder('x')
  t.equal(liveness(me), 'alive')
  t.equal(liveness({ ...me, start: String(Number(me.start) + 1) }), 'dead', 'PID reused by a later process')
  t.equal(liveness({ ...me, pid: 1, start: '1' }), processStart(1) === '1' ? 'alive' : 'dead', 'PID 1 of a container that started at another moment')
  t.equal(liveness({ ...me, boot: 'another-boot' }), 'dead', 'before a reboot')
  t.equal(liveness({ ...me, host: 'elsewhere' }), 'unknown')
  t.equal(isAlive({ ...me, host: 'elsewhere' }), true)

  const dir = await folder(t)
  const lock = join(dir, 'group.lock')
  await writeFile(lock, JSON.stringify({ ...me, pid: 1, start: '1', runId: 'old-container' }))
  if (processStart(1) !== '1') {
    const l = await acquireLock(lock, { runId: 'now' })
    await l.release()
  }
  await writeFile(lock, JSON.stringify({ ...me, host: 'elsewhere', runId: 'far' }))
  await t.rejects(acquireLock(lock, { runId: 'now', what: 'the feature group g_1' }), { code: 'ETL_LOCKED', message: new RegExp(`^the feature group g_1 is locked by run far \\(pid ${process.pid} on host elsewhere, .*that host cannot be checked from here: remove ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} once that run is known to be over$`) })
  await writeFile(lock, '{"half')
  await t.rejects(acquireLock(lock, { runId: 'now' }), { code: 'ETL_LOCKED', message: /which names no holder/ })
  await rm(lock)
})

t.test('a live holder in this process: the wait stops on the signal (ETL_CANCELLED); release is idempotent and only removes its own lock', async (t) => {
  const dir = await folder(t)
  const lock = join(dir, 'group.lock')
  const first = await acquireLock(lock, { runId: 'one' })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 100)
  await t.rejects(acquireLock(lock, { runId: 'two', timeoutMs: 60_000, signal: ac.signal }), { code: 'ETL_CANCELLED' })
  await first.release()
  const second = await acquireLock(lock, { runId: 'two' })
  await first.release()
  t.match(JSON.parse(await readFile(lock, 'utf8')), { runId: 'two' }, "the first's second release did not remove the second's lock")
  await second.release()
  t.same(await readdir(dir), [])
})
