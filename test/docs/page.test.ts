import t from 'tap'
import { renderIndex, renderRunPage } from '../../lib/docs/index.ts'
import type { RunRecord } from '../../lib/flow/run-record.ts'
import { fixture, FIXTURES, rows, summaryOf, text } from './support.ts'

const noScriptTag = (page: string) => !/<script/i.test(page)

t.test('the failed-expectation run: every expectation and meta check has a row, with its outcome, kwargs and counts', async (t) => {
  const record = fixture('warn-load')
  const s = summaryOf(record)
  const page = renderRunPage(record)
  const results = s.validation!.result.results
  const trs = rows(page, 'id="validation-')
  t.equal(trs.length, results.length, 'one row per expectation')
  t.ok(results.filter((r) => !r.success).length === 1 && results.length > 1, 'the fixture has exactly one failed expectation')
  results.forEach((r, i) => {
    const tr = trs[i]!
    const outcome = r.success ? 'passed' : 'failed'
    t.match(tr, `data-outcome="${outcome}"`, `row ${i + 1} marked ${outcome}`)
    t.match(text(tr), r.success ? /Passed/ : /Failed/, `row ${i + 1} says ${outcome} in words`)
    t.match(text(tr), r.expectation_config.expectation_type)
    for (const [k, v] of Object.entries(r.expectation_config.kwargs)) {
      t.match(text(tr), k)
      if (typeof v === 'number' || typeof v === 'string') t.match(text(tr), String(v), `kwarg ${k} shown`)
    }
    const d = r.result
    if (d.unexpected_count !== undefined) t.match(text(tr), `${d.unexpected_count} of ${d.element_count} unexpected`)
    if (d.missing_count !== undefined) t.match(text(tr), `${d.missing_count} missing`)
  })
  const failed = trs.find((tr) => tr.includes('data-outcome="failed"'))!
  t.match(text(failed), '2 of 97 unexpected (2.06%)', 'count and percentage of the failed expectation')
  t.match(text(failed), '<script>alert("site")</script>', 'the unexpected sample, as text')
  t.match(text(failed), 'east & west')
  t.match(text(page), 'Failed: 1 of 7 expectations failed (85.71% successful), over 97 rows.')

  const meta = s.meta!.result.results
  const metaRows = rows(page, 'id="meta-')
  t.equal(metaRows.length, meta.length, 'one row per meta check')
  meta.forEach((r, i) => {
    t.match(text(metaRows[i]!), String(r.meta['label']), `check ${String(r.meta['label'])} present`)
    t.match(metaRows[i]!, `data-outcome="${r.success ? 'passed' : 'failed'}"`)
  })
  const allSuccess = metaRows.find((tr) => tr.includes('data-id="all_success"'))!
  t.match(text(allSuccess), 'Failed')
  t.match(text(allSuccess), 'failure success', 'observed value of the meta check')
  t.match(text(page), 'parameter declared_expectations = 7', 'a $PARAMETER kwarg shows the value it had')
})

t.test('the run page shows state, timings, rows per stage and the local load', async (t) => {
  const record = fixture('warn-load')
  const s = summaryOf(record)
  const page = renderRunPage(record)
  const all = text(page)
  t.match(all, 'Completed with warnings')
  t.match(all, 'loaded anyway (--on-invalid warn)')
  for (const task of record.tasks) {
    const tr = rows(page, `data-task="${task.name}"`)
    t.equal(tr.length, 1, `task ${task.name} has a row`)
    t.match(text(tr[0]!), `${task.durationMs} ms`, `task ${task.name} duration`)
    t.match(text(tr[0]!), task.state)
  }
  for (const [stage, n] of Object.entries({ extracted: s.counts!.extracted, validated: s.counts!.validated, transformed: s.counts!.transformed, loaded: s.counts!.loaded })) {
    const box = page.match(new RegExp(`<li[^>]*data-stage="${stage}"[\\s\\S]*?</li>`))
    t.ok(box, `a ${stage} box`)
    t.match(text(box![0]), new RegExp(`^${stage} ${n} rows`, 'i'), `${stage}: ${n} rows`)
  }
  t.match(all, `${s.counts!.quarantined} quarantined`)
  const load = s.load!
  t.match(all, `${load.rows} rows loaded into the local feature store`)
  t.match(all, `Feature group ${load.featureGroup.name}`)
  t.match(all, `Folder ${load.location}`)
  t.match(all, `Duration ${record.durationMs} ms`)
  t.match(page, `<time datetime="${record.start}">`)
  t.ok(noScriptTag(page))
})

t.test('a Hopsworks load shows feature group, version, rows, job and its status', async (t) => {
  const record = fixture('hopsworks')
  const load = summaryOf(record).load!
  const all = text(renderRunPage(record))
  t.match(all, `${load.rows} rows loaded into Hopsworks`)
  t.match(all, `Feature group ${load.featureGroup.name} Version ${load.featureGroup.version} Rows ${load.rows}`)
  t.match(all, `Ingestion job ${load.job!.name} (execution ${load.job!.executionId})`)
  t.match(all, `Job status ${load.job!.finalStatus} ${load.job!.state}`)
  t.match(all, `Feature view ${load.featureView!.name} version ${load.featureView!.version}`)
  t.match(all, /Passed: all 6 expectations succeeded/)
})

t.test('timings show retried attempts with their errors and delays, and webhook deliveries', async (t) => {
  const record = fixture('hopsworks')
  const page = renderRunPage(record)
  const stream = record.tasks.find((x) => x.name === 'stream')!
  t.equal(stream.attempts, 2, 'the fixture retried the stream task')
  const first = stream.attemptLog[0]!
  const tr = text(rows(page, 'data-task="stream"')[0]!)
  t.match(tr, `attempt 1 failed after ${first.durationMs} ms: ${first.error!.code} ${first.error!.message} (retried after ${first.retryDelayMs} ms)`)
  t.notMatch(page, /<h1>400/, 'the HTML body in the error message is text')
  t.match(tr, 'Completed 2')
  const delivery = record.notifications[0]!
  t.match(text(page), `Notifications Webhook deliveries Target Event Outcome Attempts Duration ${delivery.target} ${delivery.event} Failed HTTP ${delivery.status} ${delivery.error!.code} ${delivery.error!.message} ${delivery.attempts}`)
})

t.test('failed runs: the error in plain words, then the message; nothing loaded', async (t) => {
  const gate = fixture('gate-abort')
  const page = renderRunPage(gate)
  const all = text(page)
  t.match(all, 'What went wrong')
  t.match(all, 'the quality gate stopped the load: nothing was loaded and the feature store is as it was')
  t.match(all, `Error ${gate.error!.code}`)
  t.match(all, text(gate.error!.message), 'the recorded message, whole')
  t.match(all, 'Failed: age, meta:all_success')
  t.match(all, 'Nothing was loaded: the quality gate stopped the run (policy abort)')
  t.match(text(page.match(/<li[^>]*data-stage="loaded"[\s\S]*?<\/li>/)![0]), 'stopped by the quality gate')

  const early = fixture('column-name')
  const earlyPage = renderRunPage(early)
  t.match(text(earlyPage), 'A column name cannot become a feature name')
  t.match(text(earlyPage), 'In task stream.')
  t.match(text(earlyPage), 'Nothing was loaded: the run ended (Failed) before the load.')
  t.notMatch(earlyPage, 'Rows through the pipeline', 'no flow picture for a run that moved no row')
})

t.test('escaping: <script> in a value, in a column name, in an error message shows as text', async (t) => {
  const value = renderRunPage(fixture('warn-load'))
  t.ok(noScriptTag(value))
  t.match(value, '&lt;script&gt;alert(&quot;site&quot;)&lt;/script&gt;')

  const column = renderRunPage(fixture('odd-extract'))
  t.ok(noScriptTag(column))
  t.match(rows(column, '').map(text).join('\n'), '<script>alert(1)</script> text', 'the column, in the columns table')

  const kwargs = renderRunPage(fixture('odd-validate'))
  t.ok(noScriptTag(kwargs))
  t.match(text(kwargs), 'Raised an exception: column "gleason" is not in the table (columns: age, <script>alert(1)</script>)')
  t.match(text(kwargs), 'Completed with warnings', 'a single-stage validation whose data failed')

  const message = renderRunPage(fixture('column-name'))
  t.ok(noScriptTag(message))
  t.match(message, 'column &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; cannot be a feature name')
})

/** Every string (and key) of a value with markup appended. */
function poison<T>(value: T, mark: string): T {
  if (typeof value === 'string') return `${value}${mark}` as T
  if (Array.isArray(value)) return value.map((v: unknown) => poison(v, mark)) as T
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [`${k}${mark}`, poison(v, mark)])) as T
  return value
}

t.test('a failed meta check shows its unexpected values with counts, and where they were found', async (t) => {
  const record = fixture('odd-meta')
  const check = summaryOf(record).meta!.result.results.find((r) => r.meta['expectation_id'] === 'no_exception')!
  t.equal(check.success, false, 'the fixture has the check failing')
  const page = renderRunPage(record)
  const row = text(rows(page, 'data-id="no_exception"')[0]!)
  t.match(row, `${check.result.unexpected_count} of ${check.result.element_count} unexpected (33.33%)`)
  t.match(row, 'true ×1', 'value and count from partial_unexpected_counts')
  t.match(row, 'at expectation_id: gleason', 'the index column of each unexpected row')
  t.match(text(page), 'Completed with warnings')
  t.match(text(page), 'the meta-validation failed')
})

t.test('long lists and long values are cut, saying how much was left out', async (t) => {
  const base = fixture('warn-load')
  const s = structuredClone(summaryOf(base))
  const results = s.validation!.result.results as unknown as { result: Record<string, unknown> }[]
  results[0]!.result['observed_value'] = Array.from({ length: 75 }, (_v, i) => `v${i}`)
  results[1]!.result['observed_value'] = 'x'.repeat(1000)
  const page = renderRunPage({ ...base, summary: s as unknown as Record<string, unknown> })
  const first = text(rows(page, 'id="validation-1"')[0]!)
  t.match(first, 'v49 … and 25 more')
  t.notMatch(first, 'v50')
  t.match(text(rows(page, 'id="validation-2"')[0]!), `${'x'.repeat(300)}… (1,000 characters)`)
})

t.test('markup in any string or key of a record never reaches the page as markup', async (t) => {
  const mark = `<img src=x onerror="alert(1)">'&`
  for (const name of FIXTURES) {
    const record = fixture(name)
    // Strings anywhere (values and keys), and the known keys kept so the page renders every part with the poisoned values.
    const valuesOnly = JSON.parse(JSON.stringify(record), (_k, v: unknown) => (typeof v === 'string' ? `${v}${mark}` : v)) as RunRecord
    for (const r of [valuesOnly, poison(record, mark), { ...record, summary: poison(record.summary, mark) }]) {
      const pages = [renderRunPage(r), renderIndex([r])]
      for (const page of pages) {
        t.notMatch(page, /<img/i, `${name}: no img element`)
        t.notMatch(page, /<script/i, `${name}: no script element`)
      }
    }
    t.match(renderRunPage(valuesOnly), '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;', `${name}: the markup shows as text`)
  }
})

t.test('a record with missing or malformed parts still renders', async (t) => {
  const base = fixture('warn-load')
  const broken = { ...base, summary: { validation: { result: { results: 'nope' } }, meta: 42, load: { sink: 'local' }, counts: null, extract: { rows: 'x', columns: 'y' } }, tasks: [], end: undefined, durationMs: undefined } as unknown as RunRecord
  const page = renderRunPage(broken)
  t.match(text(page), 'No task ran.')
  t.notMatch(page, 'id="validation-h"', 'no validation section without results')
  t.match(text(page), 'Ended not recorded')
  const running = renderRunPage({ ...base, state: 'Running', summary: {}, error: undefined } as unknown as RunRecord)
  t.match(text(running), 'The run had not finished when this page was written.')
})

t.test('the index lists runs newest first with state, rows and validation outcome, linking each page', async (t) => {
  const records = FIXTURES.map(fixture)
  const shuffled = [...records].sort((a, b) => a.id.slice(-8).localeCompare(b.id.slice(-8))) // by the random part of the id
  const index = renderIndex(shuffled)
  const listed = [...index.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1])
  const expected = [...records].sort((a, b) => Date.parse(b.start) - Date.parse(a.start)).map((r) => r.id)
  t.same(listed, expected, 'newest first')
  for (const r of records) {
    const tr = rows(index, `data-run="${r.id}"`)[0]!
    t.match(tr, `href="runs/${r.id}.html"`)
    t.match(text(tr), r.state)
    t.match(text(tr), r.flow)
    const s = summaryOf(r)
    if (s.counts?.loaded !== undefined && s.gate?.committed) t.match(text(tr), `${s.counts.extracted} → ${s.counts.validated} → ${s.counts.transformed} → ${s.counts.loaded}`)
    if (s.validation) t.match(text(tr), s.validation.success ? 'Passed' : `Failed ${s.validation.statistics.unsuccessful_expectations} of ${s.validation.statistics.evaluated_expectations} failed`)
    if (r.error) t.match(text(tr), r.error.code)
  }
  t.match(text(rows(index, `data-run="${fixture('gate-abort').id}"`)[0]!), 'not loaded')
  t.match(text(renderIndex([])), 'No run has been recorded yet.')
})
