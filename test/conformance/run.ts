/**
 * `npm run conformance [-- --verbose] [-- --only TYPE_SUBSTRING]`: runs Great
 * Expectations' own test definitions against the engine over a real
 * PostgreSQL (see harness.ts) and prints per-type counts and the total line
 * `N passed, N failed, N skipped`. Exits 1 when fewer pass than the floor
 * recorded in floor.json.
 */
import { readFileSync } from 'node:fs'
import { baseDatabase } from '../support/pg.ts'
import { formatReport, runConformance } from './harness.ts'

const args = process.argv.slice(2)
const verbose = args.includes('--verbose')
const onlyAt = args.indexOf('--only')
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined

const report = await runConformance(await baseDatabase(), only)
console.log(formatReport(report, verbose))
const floor = (JSON.parse(readFileSync(new URL('./floor.json', import.meta.url), 'utf8')) as { passed: number }).passed
if (report.passed < floor) console.error(`below the floor: ${report.passed} passed, floor ${floor}`)
process.exitCode = report.passed < floor ? 1 : 0
