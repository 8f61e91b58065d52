/**
 * The data docs in a real browser (Debian's chromium through playwright-core):
 * the pages written by buildDocs are opened by file:// URL; the DOM must show
 * what the run records say, nothing may log an error, no request may leave
 * the files, and the pages must be readable (headings in order, table
 * headers, contrast, no sideways scrolling on a laptop screen). Screenshots go
 * to test-output/ (git-ignored). Skips when /usr/bin/chromium is missing
 * (.ci/run installs it).
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import type { BrowserContext, Page } from 'playwright-core'
import { buildDocs } from '../../lib/docs/index.ts'
import { dataDirWith, fixture, FIXTURES, summaryOf } from './support.ts'

const CHROMIUM = '/usr/bin/chromium'
const factsScript = readFileSync(new URL('./page-facts.browser.js', import.meta.url), 'utf8')

interface PageFacts {
  readonly lang: string
  readonly scripts: number
  readonly levels: number[]
  readonly unscopedHead: number
  readonly unscopedRow: number
  readonly tables: number
  readonly captions: number
  readonly sideways: number
  readonly lowContrast: { ratio: number; text: string }[]
}
const outDir = fileURLToPath(new URL('../../test-output/', import.meta.url))

if (!existsSync(CHROMIUM)) {
  t.skip(`real-browser checks of the data docs: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`, () => {})
} else {
  const { chromium } = await import('playwright-core')
  const profile = await mkdtemp(join(tmpdir(), 'etl-chromium-'))
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 768 },
  })
  t.teardown(async () => {
    await context.close()
    await rm(profile, { recursive: true, force: true })
  })
  const requests: string[] = []
  context.on('request', (r) => void requests.push(r.url()))
  const problems: string[] = []
  await mkdir(outDir, { recursive: true })
  const dataDir = await dataDirWith(t)
  const { index } = await buildDocs(dataDir)

  async function open(url: string): Promise<Page> {
    const page = await context.newPage()
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => void problems.push(`pageerror: ${e.message}`))
    await page.goto(url, { waitUntil: 'load' })
    return page
  }

  /** Checks every page must pass: lang, no script, headings in order, table headers scoped, no sideways scroll, text contrast. */
  async function readable(t: Test, page: Page): Promise<void> {
    const facts = (await page.evaluate(factsScript)) as PageFacts
    t.equal(facts.lang, 'en', 'lang attribute')
    t.equal(facts.scripts, 0, 'no script element')
    t.equal(facts.levels[0], 1, 'starts with h1')
    t.ok(facts.levels.every((l, i) => i === 0 || l <= facts.levels[i - 1]! + 1), `headings in order: ${facts.levels.join(' ')}`)
    t.equal(facts.unscopedHead + facts.unscopedRow, 0, 'every table header has a scope')
    t.equal(facts.captions, facts.tables, 'every table has a caption')
    t.ok(facts.sideways <= 0, `no horizontal scrolling at 1366 px (${facts.sideways} px too wide)`)
    t.same(facts.lowContrast, [], 'all text at least 4.5:1 against its background')
  }

  const warn = fixture('warn-load')
  const runUrl = (id: string) => pathToFileURL(join(dataDir, 'docs', 'runs', `${id}.html`)).href

  t.test('index: every run, newest first, with state and outcome; a link opens the run page', async (t) => {
    const page = await open(pathToFileURL(index).href)
    const rows = page.locator('tr[data-run]')
    const runs: { id: string | null; text: string }[] = []
    for (let i = 0; i < (await rows.count()); i++) runs.push({ id: await rows.nth(i).getAttribute('data-run'), text: await rows.nth(i).innerText() })
    const records = FIXTURES.map(fixture).sort((a, b) => b.start.localeCompare(a.start))
    t.same(runs.map((r) => r.id), records.map((r) => r.id), 'newest first')
    for (const [i, r] of records.entries()) {
      t.match(runs[i]!.text, r.state)
      const v = summaryOf(r).validation
      if (v) t.match(runs[i]!.text, v.success ? 'Passed' : 'Failed')
    }
    await readable(t, page)
    await page.screenshot({ path: join(outDir, 'docs-index.png'), fullPage: true })
    await page.click(`a[href="runs/${warn.id}.html"]`)
    t.equal(page.url(), runUrl(warn.id))
    t.match(await page.locator('h1').innerText(), warn.id)
    await page.close()
  })

  t.test('run page: the failing expectation is marked failed, counts and rows match the record', async (t) => {
    const s = summaryOf(warn)
    const page = await open(runUrl(warn.id))
    const results = s.validation!.result.results
    t.equal(await page.locator('tr[id^="validation-"]').count(), results.length, 'one row per expectation')
    const failedRows = page.locator('tr[id^="validation-"][data-outcome="failed"]')
    const failedResults = results.filter((r) => !r.success)
    t.equal(await failedRows.count(), failedResults.length)
    const bad = failedResults[0]!
    const row = failedRows.first()
    t.match(await row.locator('td').nth(1).innerText(), /^✖ Failed$/, 'marked failed in words, not only by colour')
    t.equal(await row.locator('th .label').innerText(), bad.meta['label'])
    t.match(await row.innerText(), `${bad.result.unexpected_count} of ${bad.result.element_count} unexpected`)
    const sample = await row.locator('td:last-child ul.chips code').allTextContents()
    t.same(sample, bad.result.partial_unexpected_list, 'the unexpected values, as text (one holds <script>)')
    const passedBadges = await page.locator('tr[id^="validation-"][data-outcome="passed"] .badge').allInnerTexts()
    t.ok(passedBadges.length === results.length - 1 && passedBadges.every((b) => b === '✔ Passed'), 'the others say Passed')

    const metaRows = page.locator('tr[id^="meta-"][data-outcome="failed"]')
    const metaFailed: (string | null)[] = []
    for (let i = 0; i < (await metaRows.count()); i++) metaFailed.push(await metaRows.nth(i).getAttribute('data-id'))
    t.same(metaFailed, s.meta!.result.results.filter((r) => !r.success).map((r) => r.meta['expectation_id']))

    for (const stage of ['extracted', 'validated', 'transformed', 'loaded'] as const) {
      t.equal(await page.locator(`[data-stage="${stage}"] .rows`).innerText(), String(s.counts![stage]), `${stage} rows`)
    }
    t.match(await page.locator('#load-h + p').innerText(), `${s.load!.rows} rows loaded into the local feature store`)
    t.equal(await page.locator('tr[data-task]').count(), warn.tasks.length)
    await readable(t, page)
    await page.screenshot({ path: join(outDir, 'docs-run.png'), fullPage: true })
    await page.close()
  })

  t.test('failed runs: the error shows in plain words, column names and messages with <script> are text', async (t) => {
    for (const name of ['gate-abort', 'column-name', 'odd-validate', 'odd-extract', 'hopsworks'] as const) {
      const record = fixture(name)
      const page = await open(runUrl(record.id))
      if (record.error) {
        const box = await page.locator('.error-box').innerText()
        t.match(box, record.error.code, `${name}: error code`)
        t.match(box, record.error.message.split('\n')[0]!, `${name}: error message`)
      }
      t.equal(await page.locator('[data-state]').first().getAttribute('data-state'), record.state)
      await readable(t, page)
      if (name === 'gate-abort') await page.screenshot({ path: join(outDir, 'docs-run-failed.png'), fullPage: true })
      await page.close()
    }
  })

  t.test('no console error, no request outside the files', async (t) => {
    t.same(problems, [], 'no console error or warning')
    t.ok(requests.length > 0, 'pages were requested')
    t.same(requests.filter((u) => !u.startsWith('file://')), [], 'only file:// URLs')
  })
}
