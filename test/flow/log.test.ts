import { hostname } from 'node:os'
import t from 'tap'
import { registerSecret } from '../../lib/errors.ts'
import { createLogger } from '../../lib/flow/index.ts'

const sink = () => {
  const lines: string[] = []
  return { lines, stream: { write: (s: string) => lines.push(s) } }
}
const now = () => new Date('2024-01-02T03:04:05.123Z')

t.test("JSON lines in pino's shape: level number, epoch time, pid, hostname, bound and given fields, msg; every line redacted", async (t) => {
  registerSecret('s3cr3t-api-key')
  const { lines, stream } = sink()
  const log = createLogger({ format: 'json', stream, now }).child({ flow: 'etl-run' })
  log.info('run started', { runId: 'r1' })
  log.error('cannot connect to postgres://etl:pw@db/x', { key: 's3cr3t-api-key', err: new Error('boom') })
  t.same(lines.map((l) => JSON.parse(l)), [
    { level: 30, time: 1704164645123, pid: process.pid, hostname: hostname(), flow: 'etl-run', runId: 'r1', msg: 'run started' },
    { level: 50, time: 1704164645123, pid: process.pid, hostname: hostname(), flow: 'etl-run', key: '***', err: { type: 'Error', message: 'boom' }, msg: 'cannot connect to postgres://etl:***@db/x' },
  ])
  t.same(Object.keys(JSON.parse(lines[0]!)), ['level', 'time', 'pid', 'hostname', 'flow', 'runId', 'msg'], "pino's order: level, time, pid, hostname, fields, msg")
  t.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1))
})

t.test('text lines and level filtering', async (t) => {
  const { lines, stream } = sink()
  const log = createLogger({ level: 'warn', stream, now })
  log.debug('hidden')
  log.info('hidden')
  log.warn('task extract: attempt 1 failed', { attempt: 1, code: 'ETL_DB_CONNECT', error: 'connect ECONNREFUSED', skip: undefined })
  t.same(lines, ['2024-01-02T03:04:05.123Z warn  task extract: attempt 1 failed  attempt=1 code=ETL_DB_CONNECT error="connect ECONNREFUSED"\n'])
  const silent = sink()
  createLogger({ level: 'silent', stream: silent.stream }).error('nothing')
  t.same(silent.lines, [])
  t.throws(() => createLogger({ level: 'loud' as never }), { message: 'Invalid option log.level: expected debug, info, warn, error or silent, got "loud"' })
})
