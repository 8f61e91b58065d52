/** Names of the stage files in the data folder. */
export const STAGE_FILES = Object.freeze({
  extracted: 'extracted.csv',
  transformed: 'transformed.csv',
  quarantine: 'quarantine.csv',
  /** `etl validate --invalid-rows quarantine`: the rows that passed, which `etl transform` then reads (five-pipeline mode). */
  validated: 'validated.csv',
})
