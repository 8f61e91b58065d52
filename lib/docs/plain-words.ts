/**
 * Errors and states in plain words for the data docs: one sentence per
 * `ETL_*` code saying what happened and what it means for the data, shown
 * above the recorded message.
 */
import type { RunState } from '../flow/run-record.ts'

const explanations: Readonly<Record<string, string>> = {
  ETL_USAGE: 'The command was called with an unknown or invalid argument, so the run could not start its work.',
  ETL_CONFIG: 'The configuration (etl.config.json or the environment) is invalid.',
  ETL_INVALID_OPTION: 'An option had a value out of its range.',
  ETL_UNKNOWN_TABLE: 'The source table does not exist in the database.',
  ETL_INPUT: 'A stage file this step reads is missing, malformed or does not match its schema.',
  ETL_SUITE: 'The expectation suite is invalid, so the data could not be checked.',
  ETL_COLUMN_NAME: 'A column name cannot become a feature name (or clashes with a column the transform adds). Nothing was loaded.',
  ETL_DATA_DIR: 'The data folder, or a file in it, could not be read or written.',
  ETL_DB_CONNECT: 'PostgreSQL could not be reached.',
  ETL_DB_AUTH: 'PostgreSQL refused the user or password.',
  ETL_DB_QUERY: 'The source query failed in PostgreSQL.',
  ETL_DB_CONNECTION_LOST: 'The connection to PostgreSQL was lost while rows were read; no stage file was left looking complete.',
  ETL_EMBEDDED_PG: 'The embedded PostgreSQL could not start.',
  ETL_EXPECTATION: 'An expectation raised an error while it was evaluated.',
  ETL_TRANSFORM: 'The transform could not stamp a row.',
  ETL_SINK: 'The local feature store refused the load; it was left as it was.',
  ETL_HOPSWORKS: 'A call to Hopsworks failed.',
  ETL_HOPSWORKS_AUTH: 'Hopsworks refused the API key (wrong, missing, or lacking a scope).',
  ETL_HOPSWORKS_SCHEMA: 'The feature group exists in Hopsworks with another schema; nothing was sent.',
  ETL_HOPSWORKS_JOB: 'The Hopsworks ingestion job did not succeed.',
  ETL_TIMEOUT: 'A step, a call or the whole run took longer than its time limit.',
  ETL_ABORTED: 'A stage was stopped before its input ended.',
  ETL_CANCELLED: 'The run was stopped (SIGINT or SIGTERM); nothing was committed.',
  ETL_WEBHOOK: 'A webhook setting is invalid.',
  ETL_QUEUE: 'Validation state from a worker did not belong to the suite.',
  ETL_QUALITY_GATE: 'The data failed its quality checks, so the quality gate stopped the load: nothing was loaded and the feature store is as it was.',
  ETL_META_VALIDATION: 'The meta-validation could not vouch for the validation results, so nothing was loaded.',
  ETL_INTERNAL: 'An internal error (a bug in prostate-etl): please report it with this page.',
}

/** One sentence for an error code; a generic one for a code this version does not know. */
export function explainError(code: string): string {
  return explanations[code] ?? 'The run stopped with an error.'
}

/** What a run state means, in a sentence. */
export function explainState(state: RunState | string): string {
  switch (state) {
    case 'Completed': return 'The run finished.'
    case 'Failed': return 'The run failed.'
    case 'Cancelled': return 'The run was cancelled before it finished.'
    case 'Crashed': return 'The process running it stopped without recording an end (it crashed or was killed).'
    case 'Running': return 'The run had not finished when this page was written.'
    case 'Unreadable': return 'Its run record cannot be read (cut short or damaged): what the run did is not known.'
    default: return `State ${state}.`
  }
}

/** The CSS class and symbol of a state (the word itself is always shown too). */
export function stateStyle(state: string): { readonly cls: 'passed' | 'failed' | 'warn' | 'neutral'; readonly symbol: string } {
  switch (state) {
    case 'Completed': case 'Cached': return { cls: 'passed', symbol: '✔' }
    case 'Failed': case 'Crashed': case 'Unreadable': return { cls: 'failed', symbol: '✖' }
    case 'Cancelled': case 'Retrying': return { cls: 'warn', symbol: '■' }
    default: return { cls: 'neutral', symbol: '…' }
  }
}
