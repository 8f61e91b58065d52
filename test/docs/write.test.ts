import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildDocs, openInBrowser, writeDocs } from '../../lib/docs/index.ts'
import type { RunRecord } from '../../lib/flow/run-record.ts'
import { dataDirWith, fixture, FIXTURES } from './support.ts'

const listed = (index: string) => [...index.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1])

t.test('buildDocs writes one page per run record and the index, newest first, leaving no temporary file', async (t) => {
  const dataDir = await dataDirWith(t)
  await writeFile(join(dataDir, 'runs', 'not-a-record.json'), '{"hello": 1}')
  await writeFile(join(dataDir, 'runs', 'broken.json'), '{')
  const { index, pages } = await buildDocs(dataDir)
  t.equal(index, join(dataDir, 'docs', 'index.html'))
  const ids = FIXTURES.map((n) => fixture(n).id).sort()
  t.same(pages, ids.map((id) => join(dataDir, 'docs', 'runs', `${id}.html`)))
  t.same((await readdir(join(dataDir, 'docs', 'runs'))).sort(), ids.map((id) => `${id}.html`), 'only the pages, no .tmp left')
  t.same(listed(await readFile(index, 'utf8')), [...ids].reverse())
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
  t.same(listed(index), [stored.id, fixture('warn-load').id], 'the stored runs plus the given one, once (the earlier unstored record is gone)')
  t.match(index, 'renamed-flow')
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
