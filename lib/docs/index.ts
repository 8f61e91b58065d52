/**
 * Data docs: a static HTML report of every run (issue 10), in the manner of
 * Great Expectations' Data Docs but for the whole ETL.
 *
 *     RunRecord ─ readSummary (shape checks) ─┬─ renderRunPage ─> docs/runs/<id>.html
 *                                             └─ renderIndex ───> docs/index.html
 *
 * Files: html.ts (escaping template), format.ts (numbers, times, values),
 * read.ts (summary narrowing), layout.ts (page shell, CSS, CSP),
 * plain-words.ts (errors and states in words), stages.ts (flow picture,
 * extract/transform/load), timings.ts (tasks, hooks, webhooks),
 * suite-section.ts (expectation tables), run-page.ts, index-page.ts,
 * write.ts (files, browser).
 */
export { renderRunPage } from './run-page.ts'
export { indexEntry, newestFirst, renderIndex, renderIndexEntries, type IndexEntry } from './index-page.ts'
export { buildDocs, docsDir, INDEX_LIMIT, openInBrowser, writeDocs, type DocsPaths, type WriteDocsOptions } from './write.ts'
export { escapeHtml } from './html.ts'
