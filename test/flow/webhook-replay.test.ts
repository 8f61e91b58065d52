/**
 * A receiver as the README shows one: it verifies the Standard Webhooks
 * signature, refuses a timestamp more than 5 minutes off its clock and an id
 * it has already accepted. A real flow run notifies it; the captured request
 * is then sent again as an attacker would, unchanged, later, and tampered.
 */
import { createHmac } from 'node:crypto'
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { flow, replayGuard, signBody, signWebhook, task, verifyWebhook, webhookKey, type WebhookPayload } from '../../lib/flow/index.ts'

interface Hit { readonly headers: IncomingHttpHeaders; readonly raw: Buffer; readonly verdict: string }

async function verifyingReceiver(t: { teardown(fn: () => unknown): void }, secret: string, clock: { skewMs: number }) {
  const hits: Hit[] = []
  const seen = replayGuard(300)
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const raw = Buffer.concat(chunks)
      const v = verifyWebhook(secret, req.headers, raw, { seen, now: () => Date.now() + clock.skewMs })
      hits.push({ headers: req.headers, raw, verdict: v.ok ? 'ok' : v.reason })
      res.writeHead(v.ok ? 204 : 401).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { hits, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/etl` }
}

/** Sends raw bytes with the given headers, as a replaying attacker would; resolves with the status. */
function replay(url: string, headers: OutgoingHttpHeaders, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': body.length } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const pick = (h: IncomingHttpHeaders) => ({
  'content-type': h['content-type'], 'webhook-id': h['webhook-id'], 'webhook-timestamp': h['webhook-timestamp'], 'webhook-signature': h['webhook-signature'],
}) as OutgoingHttpHeaders

for (const secret of ['a-plain-shared-secret', `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`]) {
  t.test(`a receiver verifies the Standard Webhooks signature and rejects a replay (${secret.startsWith('whsec_') ? 'whsec_ secret' : 'plain secret'})`, async (t) => {
    const clock = { skewMs: 0 }
    const r = await verifyingReceiver(t, secret, clock)
    const f = flow({ name: 'etl-run' }, async (_: void, ctx) => {
      ctx.summarize('counts', { extracted: 97, validated: 97 })
      await task({ name: 'load' }, async () => {
        throw new EtlError('ETL_DB_CONNECTION_LOST', 'the server closed the connection')
      })()
    })
    const o = await f.run(undefined, { dataDir: t.testdir(), webhooks: [{ url: r.url, secret }], parameters: { source: 'prostate' } })
    t.equal(o.state, 'Failed')
    t.equal(r.hits.length, 1)
    const [hit] = r.hits as [Hit]
    t.equal(hit.verdict, 'ok', 'the signed delivery is accepted')
    t.match(hit.headers['webhook-id'], /^msg_[\w-]{24}$/)
    t.ok(Math.abs(Number(hit.headers['webhook-timestamp']) - Date.now() / 1000) < 10, 'timestamp: unix seconds of the attempt')
    const expected = createHmac('sha256', webhookKey(secret)).update(`${hit.headers['webhook-id']}.${hit.headers['webhook-timestamp']}.${hit.raw.toString()}`).digest('base64')
    t.equal(hit.headers['webhook-signature'], `v1,${expected}`, 'v1,<base64 HMAC-SHA256 of id.timestamp.body>')
    t.equal(hit.headers['x-etl-signature'], signBody(hit.raw, secret), 'the legacy header is still sent')
    if (secret.startsWith('whsec_')) t.same(webhookKey(secret), Buffer.from('0123456789abcdef0123456789abcdef'), 'whsec_ is base64 of the key')
    const p = JSON.parse(hit.raw.toString()) as WebhookPayload
    t.match(p, { event: 'run.failed', type: 'run.failed', pipeline: 'etl-run', table: 'prostate', state: 'Failed', rows: { extracted: 97, validated: 97 } })
    t.same(p.error, { code: 'ETL_DB_CONNECTION_LOST', message: 'the server closed the connection', class: 'transient' })

    t.equal(await replay(r.url, pick(hit.headers), hit.raw), 401, 'the same request again is refused')
    t.equal(r.hits[1]?.verdict, 'replay')
    clock.skewMs = 6 * 60_000
    const fresh: OutgoingHttpHeaders = { ...pick(hit.headers), 'webhook-id': 'msg_never_seen_before_000' }
    fresh['webhook-signature'] = signWebhook('msg_never_seen_before_000', Number(hit.headers['webhook-timestamp']), hit.raw, secret)
    t.equal(await replay(r.url, fresh, hit.raw), 401, 'a correctly signed request 6 minutes old is refused')
    t.equal(r.hits[2]?.verdict, 'old timestamp')
    clock.skewMs = 0
    const tampered = Buffer.from(hit.raw.toString().replace('"Failed"', '"Completed"'))
    t.equal(await replay(r.url, { ...fresh }, tampered), 401, 'a changed body is refused')
    t.equal(r.hits[3]?.verdict, 'bad signature')
    t.equal(await replay(r.url, { 'content-type': 'application/json' }, hit.raw), 401)
    t.equal(r.hits[4]?.verdict, 'missing headers')
  })
}

t.test('retries of one message keep its webhook-id and sign each attempt', async (t) => {
  const got: IncomingHttpHeaders[] = []
  const statuses = [503]
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      got.push(req.headers)
      res.writeHead(statuses.shift() ?? 204).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const f = flow({ name: 'fine' }, async () => 'ok')
  await f.run(undefined, { dataDir: t.testdir(), webhooks: [{ url, secret: 's', events: ['completed'], retryDelaySeconds: 0.01 }] })
  t.equal(got.length, 2)
  t.equal(got[0]?.['webhook-id'], got[1]?.['webhook-id'])
  t.match(got[1]?.['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/)
})
