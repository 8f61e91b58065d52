import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildDocs, openInBrowser, writeDocs } from '../../lib/docs/index.ts'
import type { RunRecord } from '../../lib/flow/run-record.ts'
import { dataDirWith, fixture, FIXTURES } from './support.ts'

const listed = (index: string) => [...index.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1])

t.test('buildDocs writes one page per run record (unreadable ones too) and the index, newest first, leaving no temporary file', async (t) => {
  const dataDir = await dataDirWith(t)
  await writeFile(join(dataDir, 'runs', 'not-a-record.json'), '{"hello": 1}')
  await writeFile(join(dataDir, 'runs', 'broken.json'), '{')
  const { index, pages } = await buildDocs(dataDir)
  t.equal(index, join(dataDir, 'docs', 'index.html'))
  // A record file that cannot be read is not dropped: it has its page and its row, as Unreadable.
  const ids = [...FIXTURES.map((n) => fixture(n).id), 'broken', 'not-a-record'].sort()
  t.match(await readFile(join(dataDir, 'docs', 'index.html'), 'utf8'), /<tr data-run="broken" data-state="Unreadable">/)
  t.same(pages, ids.map((id) => join(dataDir, 'docs', 'runs', `${id}.html`)))
  t.same((await readdir(join(dataDir, 'docs', 'runs'))).sort(), ids.map((id) => `${id}.html`), 'only the pages, no .tmp left')
  // Newest first; the unreadable ones, whose ids tell no start, last.
  t.same(listed(await readFile(index, 'utf8')), [...FIXTURES.map((n) => fixture(n).id).sort().reverse(), 'not-a-record', 'broken'])
  for (const page of pages) t.match(await readFile(page, 'utf8'), /^<!doctype html>\n<html lang="en">/)
})

t.test('writeDocs(record) writes that run page and adds it to the index; its own copy wins over the stored one', async (t) => {
  const dataDir = await dataDirWith(t, ['warn-load', 'gate-abort'])
  const fresh: RunRecord = { ...fixture('hopsworks'), id: '29991231T235959999Z-zzzzzzzz', start: '2999-12-31T23:59:59.999Z' }
  const first = await writeDocs(dataDir, fresh)
  t.same(first.pages, [join(dataDir, 'docs', 'runs', `${fresh.id}.html`)], 'only the given run page')
  t.same(await readdir(join(dataDir, 'docs', 'runs')), [`${fresh.id}.html`])
  t.same(listed(await readFile(first.index, 'utf8')), [fresh.id, fixture('gate-abort').id, fixture('warn-load').id])

  const stored = fixture('gate-abort')
  await writeDocs(dataDir, { ...stored, flow: 'renamed-flow' })
  const index = await readFile(first.index, 'utf8')
  t.same(listed(index), [fresh.id, stored.id, fixture('warn-load').id], 'the kept rows plus the given one, once: no record was read again')
  t.match(index, 'renamed-flow')
  const rebuilt = await buildDocs(dataDir)
  t.same(listed(await readFile(rebuilt.index, 'utf8')), [stored.id, fixture('warn-load').id], 'buildDocs lists the stored records only (the unstored one is gone)')
})

t.test('writeDocs drops the rows and pages of removed runs and keeps at most `limit` rows; a damaged index.json is rebuilt from the records', async (t) => {
  const dataDir = await dataDirWith(t, ['warn-load', 'gate-abort'])
  const at = (i: number) => ({ ...fixture('hopsworks'), id: `2999010${i}T000000000Z-run0000${i}`, start: `2999-01-0${i}T00:00:00.000Z` })
  await writeDocs(dataDir, at(1))
  await writeDocs(dataDir, at(2), { removed: [fixture('warn-load').id] })
  t.same(listed(await readFile(join(dataDir, 'docs', 'index.html'), 'utf8')), [at(2).id, at(1).id, fixture('gate-abort').id])
  t.notOk((await readdir(join(dataDir, 'docs', 'runs'))).includes(`${fixture('warn-load').id}.html`), 'the removed run page is gone')
  await writeDocs(dataDir, at(3), { limit: 2 })
  const page = await readFile(join(dataDir, 'docs', 'index.html'), 'utf8')
  t.same(listed(page), [at(3).id, at(2).id])
  t.match(page, 'The newest 2 are listed; <code>etl runs</code> lists all.')
  await writeFile(join(dataDir, 'docs', 'index.json'), '{"version": 1, "entries": [{"id": "../../etc", "row": "<script>"}]}')
  await writeDocs(dataDir, at(4))
  const again = await readFile(join(dataDir, 'docs', 'index.html'), 'utf8')
  t.same(listed(again), [at(4).id, fixture('gate-abort').id, fixture('warn-load').id], 'rows made from the stored records again')
  t.notMatch(again, '<script>')
})

t.test('writeDocs in an empty data folder writes an empty index; a bad id or an unwritable folder throws a coded error', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'etl-docs-empty-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { index, pages } = await buildDocs(dataDir)
  t.same(pages, [])
  t.match(await readFile(index, 'utf8'), 'No run has been recorded yet.')
  await t.rejects(writeDocs(dataDir, { ...fixture('warn-load'), id: '../../escape' }), {
    code: 'ETL_INVALID_OPTION', message: 'Invalid option record.id: expected a run id (letters, digits, - and _), got "../../escape"',
  })
  const file = join(dataDir, 'plain-file')
  await writeFile(file, 'x')
  await t.rejects(buildDocs(file), { code: 'ETL_DATA_DIR' })
})

t.test('openInBrowser runs the platform opener with the path, and resolves false when there is none', { skip: process.platform === 'darwin' || process.platform === 'win32' ? 'the opener test fakes xdg-open' : false }, async (t) => {
  const bin = await mkdtemp(join(tmpdir(), 'etl-opener-'))
  t.teardown(() => rm(bin, { recursive: true, force: true }))
  const out = join(bin, 'opened.txt')
  await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${out}'\n`)
  await chmod(join(bin, 'xdg-open'), 0o755)
  const path = '/tmp/some docs/index.html'
  const saved = process.env['PATH']
  t.teardown(() => {
    process.env['PATH'] = saved
  })
  process.env['PATH'] = bin
  t.equal(await openInBrowser(path), true)
  let opened = ''
  for (let i = 0; i < 100 && opened === ''; i++) {
    opened = await readFile(out, 'utf8').catch(() => '')
    if (opened === '') await sleep(20)
  }
  t.equal(opened, path, 'the opener got the path as one argument')
  process.env['PATH'] = join(bin, 'nothing-here')
  t.equal(await openInBrowser(path), false)
})
