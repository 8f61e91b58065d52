/**
 * README "Great Expectations suites": the table of types lists every type the
 * catalog knows with exactly the kwargs it takes, and the suite-parameter
 * examples evaluate to what the README says.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { CATALOG } from '../../lib/expectations/catalog.ts'
import { resolveParameters } from '../../lib/expectations/params.ts'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const section = readme.slice(readme.indexOf('## Great Expectations suites'), readme.indexOf('## Data docs'))

t.test('every type with its kwargs', async (t) => {
  const rows = new Map<string, string[]>()
  for (const m of section.matchAll(/^\| `(expect_\w+)` \| [^|]+ \| (.*) \|$/gm)) rows.set(m[1]!, [...m[2]!.matchAll(/`(\w+)`/g)].map((k) => k[1]!))
  t.same([...rows.keys()].sort(), Object.keys(CATALOG).sort())
  for (const [type, entry] of Object.entries(CATALOG)) t.same(rows.get(type), entry.kwargs, type)
})

t.test('the suite-parameter examples', async (t) => {
  const tz = process.env['TZ']
  process.env['TZ'] = 'UTC'
  t.teardown(() => (tz === undefined ? delete process.env['TZ'] : (process.env['TZ'] = tz)))
  const ctx = { parameters: { max_age: 80, expected_rows: 1000 }, now: () => new Date('2025-11-25T10:00:00Z') }
  const examples = [...section.matchAll(/^\| `\{"\$PARAMETER": "(.+?)"\}`.* \| `(.+)` \|$/gm)]
  t.equal(examples.length, 5)
  for (const [, expr, want] of examples) t.same(resolveParameters({ x: { $PARAMETER: expr!.replace(/\\"/g, '"') } }, ctx)['x'], JSON.parse(want!), expr!)
})
