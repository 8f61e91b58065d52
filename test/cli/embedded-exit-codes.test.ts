/**
 * The exit code of every command on the embedded default (no DATABASE_URL,
 * no PG* variable: cleanEnv drops them), signals included, and no server or
 * data folder left behind by any of them.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cleanEnv } from '../support/cli.ts'
import { leftovers, node, privateTmp, type Spawn } from '../support/embedded-default.ts'

const repo = new URL('../../', import.meta.url).pathname

t.test('every command on the embedded default exits with its code, signals included', async (t) => {
  const tmp = await privateTmp(t)
  const cwd = await mkdtemp(join(tmp, 'work-'))
  const env = cleanEnv({ TMPDIR: tmp })
  const bin = join(repo, 'bin/etl.js')
  const failing = join(cwd, 'failing.json')
  await writeFile(failing, JSON.stringify({ expectation_suite_name: 'never', expectations: [{ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'age', min_value: 0, max_value: 1 } }] }))
  const cases: { args: string[]; code: number; says?: RegExp; kill?: Spawn['kill'] }[] = [
    { args: ['run', '--suite', failing], code: 3, says: /ETL_QUALITY_GATE/ },
    { args: ['extract', '--table', 'nope'], code: 2, says: /ETL_UNKNOWN_TABLE: table not found: nope/ },
    { args: ['extract', '--bogus'], code: 2, says: /ETL_USAGE/ },
    { args: ['validate', '--input', join(cwd, 'none.csv')], code: 2, says: /ETL_INPUT/ },
    { args: ['runs'], code: 0 },
    { args: ['worker'], code: 2, says: /ETL_CONFIG: etl worker needs the source database/ },
    { args: ['run'], code: 130, kill: { signal: 'SIGINT', when: 'starting an embedded PostgreSQL' }, says: /ETL_CANCELLED/ },
    { args: ['run'], code: 143, kill: { signal: 'SIGTERM', when: 'starting an embedded PostgreSQL' }, says: /ETL_CANCELLED/ },
    { args: ['schedule', '--cron', '0 0 1 1 *'], code: 143, kill: { signal: 'SIGTERM', when: 'next run at' } },
    { args: ['schedule', '--cron', '0 0 1 1 *'], code: 130, kill: { signal: 'SIGINT', when: 'next run at' } },
  ]
  for (const c of cases) {
    const r = await node([bin, ...c.args], { cwd, env, ...(c.kill ? { kill: c.kill } : {}) })
    const name = `etl ${c.args.join(' ')}${c.kill ? ` + ${c.kill.signal}` : ''}`
    t.equal(r.code, c.code, `${name} exits ${c.code}\n${r.stderr}`)
    if (c.says) t.match(r.stderr, c.says, name)
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`)
    t.same(await leftovers(tmp), [], `${name}: no data folder or server left behind`)
  }
})
