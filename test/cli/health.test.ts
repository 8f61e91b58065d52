/**
 * `etl health` (the image's HEALTHCHECK) against a real long-running command:
 * healthy while `etl schedule` runs, unhealthy when its process is stopped
 * (SIGSTOP: a stuck event loop beats no more), and when it has exited.
 */
import { spawn } from 'node:child_process'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { cleanEnv } from '../support/cli.ts'
import { node } from '../support/embedded-default.ts'

const bin = new URL('../../bin/etl.js', import.meta.url).pathname

t.test('etl health: healthy while etl schedule beats, unhealthy when it is stuck or gone', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'etl-health-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const env = cleanEnv({ ETL_HEARTBEAT_FILE: join(cwd, 'heartbeat') })
  const none = await node([bin, 'health'], { cwd, env })
  t.equal(none.code, 1)
  t.match(none.stderr, 'unhealthy: no heartbeat in')
  const child = spawn(process.execPath, [bin, 'schedule', '--cron', '0 0 1 1 *'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  t.teardown(() => void child.kill('SIGKILL'))
  for (let i = 0; i < 200; i++) {
    if (await access(join(cwd, 'heartbeat')).then(() => true, () => false)) break
    await sleep(50)
  }
  const ok = await node([bin, 'health'], { cwd, env })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, new RegExp(`healthy: etl schedule \\(pid ${child.pid}, since `))
  child.kill('SIGSTOP')
  await sleep(2500)
  const stuck = await node([bin, 'health', '--max-age', '2'], { cwd, env })
  t.equal(stuck.code, 1)
  t.match(stuck.stderr, /unhealthy: etl schedule \(pid \d+\) last beat \d+ s ago \(more than --max-age 2\): stuck/)
  child.kill('SIGCONT')
  child.kill('SIGTERM')
  t.equal(await exited, 143)
  const gone = await node([bin, 'health'], { cwd, env })
  t.equal(gone.code, 1, 'the heartbeat file is removed when the command ends')
  const bad = await node([bin, 'health', '--max-age', 'soon'], { cwd, env })
  t.equal(bad.code, 2)
  t.match(bad.stderr, 'ETL_INVALID_OPTION: Invalid option --max-age')
})
