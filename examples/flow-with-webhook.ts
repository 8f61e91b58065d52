// A flow with one task (retried, with a time limit) and a webhook that hears how the run ended.
// Run: DATABASE_URL=... WEBHOOK_URL=https://hooks.example/etl node examples/flow-with-webhook.ts
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createLogger, databaseFromEnv, flow, task } from '../lib/index.ts'

const db = databaseFromEnv() ?? { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' }

// A task: its attempts, errors and time are in the run record; retried twice on a failure that may pass.
const countRows = task({ name: 'count-rows', retries: 2, retryDelaySeconds: 0.5, timeoutSeconds: 30 }, async (table: string) => {
  const client = await connect(db)
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${client.escapeIdentifier(table)}`)
    return rows[0]!.n
  } finally {
    await client.end()
  }
})

const nightly = flow({ name: 'nightly-count' }, async (table: string, ctx) => {
  const n = await countRows(table)
  ctx.summarize('count', { table, rows: n })
  return n
})

const url = process.env['WEBHOOK_URL']
const outcome = await nightly.run(process.argv[2] ?? 'prostate', {
  dataDir: process.env['DATA_DIR'] ?? (await mkdtemp(join(tmpdir(), 'example-flow-'))),
  webhooks: url ? [{ url, events: ['completed', 'failed', 'cancelled'] }] : [],
  log: createLogger({ format: 'json' }),
})
console.log(JSON.stringify({ state: outcome.state, runId: outcome.id, rows: outcome.state === 'Completed' ? outcome.result : null }))
process.exitCode = outcome.state === 'Completed' ? 0 : 1
