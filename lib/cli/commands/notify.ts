/**
 * `etl notify --test URL`: sends a sample notification, as a run would send
 * it (same body shape, same Standard Webhooks signature with
 * ETL_WEBHOOK_SECRET), and says what the receiver answered.
 */
import { hostname } from 'node:os'
import { EtlError, registerSecret } from '../../errors.ts'
import { deliver, newRunId, webhookPayload, webhookTarget, type RunRecord } from '../../flow/index.ts'
import type { Command } from '../commands.ts'
import { makeLogger } from '../context.ts'
import { noPositionals } from './pipelines.ts'

/** A completed run of the prostate table, as a record would hold it. */
function sampleRecord(now: Date): RunRecord {
  const start = new Date(now.getTime() - 1200)
  return {
    version: 1, id: newRunId(start), flow: 'etl-run', state: 'Completed', start: start.toISOString(), end: now.toISOString(), durationMs: 1200,
    parameters: { source: 'prostate', sink: 'local' },
    tasks: [{ name: 'etl', state: 'Completed', attempts: 1, start: start.toISOString(), end: now.toISOString(), durationMs: 1150, attemptLog: [] }],
    summary: { counts: { extracted: 97, validated: 97, quarantined: 0, transformed: 97, dropped: 0, loaded: 97 }, gate: { passed: true, policy: 'abort', failed: [], committed: true } },
    hooks: [], notifications: [], host: hostname(), pid: process.pid,
  }
}

export const notifyCommand: Command = {
  summary: 'send a sample webhook notification (--test URL), signed as a run would sign it',
  description: 'The body is a run.completed of a made-up run with "test": true. Exit 0 when the receiver answered 2xx, else 1 (ETL_WEBHOOK).',
  flags: ['test', 'quiet', 'log'],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    if (!values.test) throw new EtlError('ETL_USAGE', 'etl notify needs --test URL (the receiver to send a sample to)')
    const log = makeLogger(ctx, { log: values.log === 'json' ? 'json' : 'text', quiet: values.quiet })
    const secret = ctx.env['ETL_WEBHOOK_SECRET'] || undefined
    registerSecret(secret)
    const target = webhookTarget({ url: values.test, retries: 0, ...(secret ? { secret } : {}) }, '--test')
    const payload = { ...webhookPayload(sampleRecord(new Date()), 'completed'), test: true as const }
    const d = await deliver(target, payload)
    if (!d.ok) throw new EtlError('ETL_WEBHOOK', d.error?.message ?? `${d.target} did not accept the sample`)
    log.info(`sample ${payload.event} delivered to ${d.target}: HTTP ${d.status} in ${d.durationMs} ms (${d.signed ? 'signed' : 'unsigned: ETL_WEBHOOK_SECRET is not set'})`)
    return 0
  },
}
