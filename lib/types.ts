/**
 * The data model every stage shares.
 *
 * Stages move *batches*, not single rows: a batch is an array of rows, a row an
 * array of values in column order. The column list travels with every batch
 * (the same frozen array for every batch of one stream, so it costs nothing),
 * which lets each stage compile itself on the first batch it sees. A source
 * always emits at least one batch, possibly with zero rows, so an empty table
 * still tells the stages after it which columns it has.
 */

/** One column: its name and its PostgreSQL type name (`int4`, `text`, `timestamptz`, `_int4` for int4[] ...). */
export interface Column {
  readonly name: string
  readonly type: string
}

/** A row: values in column order. See README "Value mapping" for what each PostgreSQL type becomes. */
export type Row = unknown[]

/** What flows between stages. */
export interface Batch {
  readonly columns: readonly Column[]
  readonly rows: Row[]
}

/** Counts a stage reports into the run summary. */
export interface StageCounts {
  readonly rows: number
  readonly batches: number
}
