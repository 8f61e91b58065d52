/**
 * The profile page in a real browser (Debian's chromium through
 * playwright-core), as the run pages are checked: readable (lang, headings,
 * scoped headers, captions, contrast, no sideways scrolling), no script, no
 * request, a chart per column whose bars match the profile, values with
 * markup shown as text. A screenshot goes to test-output/profile-prostate.png.
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { renderProfilePage } from '../../lib/profile/page.ts'
import { profileStream, type Profile } from '../../lib/profile/profile.ts'
import { testDb } from '../support/pg.ts'

const CHROMIUM = '/usr/bin/chromium'
const factsScript = readFileSync(new URL('../docs/page-facts.browser.js', import.meta.url), 'utf8')
const outDir = fileURLToPath(new URL('../../test-output/', import.meta.url))

async function profileOf(db: Awaited<ReturnType<typeof testDb>>, table: string): Promise<Profile> {
  const sink = profileStream({ source: table })
  await pipeline(pgSource(db.config, { table }), sink)
  return sink.profile
}

if (!existsSync(CHROMIUM)) {
  t.skip(`real-browser check of the profile page: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`, () => {})
} else {
  t.test('the profile page: readable, a chart per column, markup in values shown as text', async (t) => {
    const db = await testDb(t)
    await seedProstate(db.config)
    await db.client.query(`CREATE TABLE notes AS SELECT g AS id, CASE WHEN g % 3 = 0 THEN '<script>alert(1)</script>' ELSE 'note ' || g END AS note FROM generate_series(1, 30) g`)
    const dir = await mkdtemp(join(tmpdir(), 'etl-profile-page-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const prostate = await profileOf(db, 'prostate')
    const notes = await profileOf(db, 'notes')
    await writeFile(join(dir, 'prostate.html'), renderProfilePage(prostate))
    await writeFile(join(dir, 'notes.html'), renderProfilePage(notes))

    const { chromium } = await import('playwright-core')
    const profileDir = await mkdtemp(join(tmpdir(), 'etl-chromium-'))
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1366, height: 768 },
    })
    t.teardown(async () => {
      await context.close()
      await rm(profileDir, { recursive: true, force: true })
    })
    const requests: string[] = []
    const problems: string[] = []
    context.on('request', (r) => void requests.push(r.url()))
    const page = await context.newPage()
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => void problems.push(`pageerror: ${e.message}`))

    await page.goto(pathToFileURL(join(dir, 'prostate.html')).href, { waitUntil: 'load' })
    const facts = (await page.evaluate(factsScript)) as { lang: string; scripts: number; levels: number[]; unscopedHead: number; unscopedRow: number; tables: number; captions: number; sideways: number; lowContrast: unknown[] }
    t.equal(facts.lang, 'en')
    t.equal(facts.scripts, 0, 'no script element')
    t.equal(facts.levels[0], 1, 'starts with h1')
    t.equal(facts.unscopedHead + facts.unscopedRow, 0, 'every table header has a scope')
    t.equal(facts.captions, facts.tables, 'every table has a caption')
    t.ok(facts.sideways <= 0, `no horizontal scrolling at 1366 px (${facts.sideways} px too wide)`)
    t.same(facts.lowContrast, [], 'all text at least 4.5:1 against its background')
    t.equal(await page.locator('svg.chart').count(), prostate.columns.length, 'a chart per column')
    for (const c of prostate.columns) {
      const row = page.locator('tbody tr').filter({ has: page.locator('th .label', { hasText: new RegExp(`^${c.name}$`) }) })
      t.equal(await row.locator('svg.chart rect').count(), c.histogram.value.length, `${c.name}: a bar per bin`)
      const heights = await row.locator('svg.chart rect').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))))
      const peak = c.histogram.value.reduce((m, b, i) => (b.count > c.histogram.value[m]!.count ? i : m), 0)
      t.equal(heights.indexOf(Math.max(...heights)), peak, `${c.name}: the tallest bar is the largest bin`)
      t.match(await row.locator('svg.chart').getAttribute('aria-label'), c.name, `${c.name}: the chart has a text alternative`)
    }
    await mkdir(outDir, { recursive: true })
    await page.screenshot({ path: join(outDir, 'profile-prostate.png'), fullPage: true })

    await page.goto(pathToFileURL(join(dir, 'notes.html')).href, { waitUntil: 'load' })
    t.equal(await page.locator('script').count(), 0, 'a value holding <script> adds no script')
    t.match(await page.locator('tbody').innerText(), '<script>alert(1)</script>', 'it shows as text')
    t.same(problems, [], 'no console error or warning')
    t.same(requests.filter((u) => !u.startsWith('file://')), [], 'only file:// URLs')
  })
}
