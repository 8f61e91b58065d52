/**
 * Great Expectations' own test definitions, run by `npm test`: fails when the
 * number passing falls below the floor recorded in floor.json (which only
 * goes up). The cases still failing, and why, are printed as comments.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { baseDatabase } from '../support/pg.ts'
import { formatReport, runConformance } from './harness.ts'

const floor = (JSON.parse(readFileSync(new URL('./floor.json', import.meta.url), 'utf8')) as { passed: number }).passed

t.test('GE conformance does not fall below the floor', async (t) => {
  const report = await runConformance(await baseDatabase())
  t.comment(formatReport(report).split('\n').filter((l) => l.includes('FAIL') || /^\d+ passed/.test(l)).join('\n'))
  t.ok(report.passed >= floor, `${report.passed} passed, floor ${floor}`)
  t.ok(report.passed + report.failed >= 423, `${report.passed + report.failed} applicable cases ran`)
})
