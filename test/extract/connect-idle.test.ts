/**
 * A connection from connect() that the server ends while it is idle
 * (pg_terminate_backend) is no unhandled 'error' event: the process goes on,
 * and the next query on it fails with an error the caller can catch.
 */
import t from 'tap'
import { connect } from '../../lib/extract/connect.ts'
import { baseDatabase } from '../support/pg.ts'

t.test('the server ending an idle connection: no crash, the next query rejects', async (t) => {
  const config = await baseDatabase()
  const idle = await connect(config)
  const { rows } = await idle.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  const killer = await connect(config)
  t.teardown(() => killer.end())
  const ended = new Promise((resolve) => idle.once('end', resolve))
  await killer.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
  await ended
  await t.rejects(idle.query('SELECT 1'), /not queryable|terminat/, 'the next query rejects')
  await idle.end().catch(() => {})
})
