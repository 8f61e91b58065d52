/**
 * Great Expectations' row_condition cases are written for its pandas backend
 * only (`only_for: ["pandas"]`), with the pandas condition_parser, which this
 * engine translates: run them all over PostgreSQL tables, as the conformance
 * run does, and expect every one to pass (the parser-error cases too).
 */
import t from 'tap'
import { baseDatabase } from '../support/pg.ts'
import { runConformance } from './harness.ts'

t.test("GE's row_condition cases pass over PostgreSQL", async (t) => {
  const report = await runConformance(await baseDatabase(), undefined, (c) => c.test.in['row_condition'] !== undefined)
  t.equal(report.outcomes.length, 17, 'all of them ran')
  // `y == 9` over y = 1..9, "abc": a pandas object column holding the number 9; on PostgreSQL y is text, and the
  // comparison of a text column with a number is refused (an error result) rather than guessed
  const refused = (o: { type: string; title: string }): boolean => o.type === 'expect_column_values_to_be_between' && o.title === 'test_conditional_expectation_fails'
  for (const o of report.outcomes) {
    if (refused(o)) t.match(o.reason, 'column y is text, compared with 9', `${o.title} is refused`)
    else t.equal(o.status, 'passed', `${o.type} ${o.title}: ${o.reason ?? ''}`)
  }
  t.equal(report.outcomes.filter(refused).length, 2)
})
