/**
 * README "Bad input": one test per row of the table. Each row spawns the real
 * `etl` against the real PostgreSQL (one schema for the file) or the Hopsworks
 * emulator, and checks the exit code, the error code on stderr, the words the
 * README quotes, that no stack trace or secret is printed, and that nothing
 * was committed or left half-written. The last test reads the README table
 * and checks it against ROWS, so the table and the tests cannot drift apart.
 *
 * Fixtures (suites, stage CSVs) are in ./bad-inputs/; every row runs in its
 * own temporary working folder.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { exitCodeOf, type EtlErrorCode } from '../../lib/errors.ts'
import { startEmbedded } from '../../lib/extract/embedded.ts'
import { currentHolder } from '../../lib/load/lock.ts'
import { cleanEnv, runEtl, type CliResult } from '../support/cli.ts'
import { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { testDb } from '../support/pg.ts'

const FIXTURES = fileURLToPath(new URL('./bad-inputs/', import.meta.url))
const README = fileURLToPath(new URL('../../README.md', import.meta.url))
const fx = (name: string): string => join(FIXTURES, name)

/** Hopsworks rows poll the ingestion job quickly (the default is every 3 s). */
const FAST_POLL = JSON.stringify({ hopsworks: { pollIntervalSeconds: 0.05 } })
/** About 60 `etl` processes start here: Node's compile cache halves their start-up CPU (a quiet optimisation; stale entries are not used). */
const COMPILE_CACHE = join(tmpdir(), 'prostate-etl-test-compile-cache')
const WRONG_API_KEY = 'AbCdEfGhIjKlMnOp.BadInputWrongKeySecretPartThatMustNeverBePrinted0123456789abcdef'

/** What a row's run gets: its own working folder, the file's database and the shared emulator. */
interface Scene {
  readonly cwd: string
  /** `<cwd>/data`, the default data folder. */
  readonly data: string
  /** The shared emulator (no faults are injected into it). */
  readonly hw: HopsworksEmulator
  /** Runs `etl` in the working folder; the environment is the test database's plus `extra`. */
  etl(args: readonly string[], extra?: Record<string, string>): Promise<CliResult>
  /** Runs `etl` with exactly this environment (nothing of the parent's database or Hopsworks). */
  etlWith(env: Record<string, string>, args: readonly string[]): Promise<CliResult>
  /** Writes a file in the working folder. */
  file(name: string, text: string): Promise<void>
  /** The test database's environment with another user or database. */
  dbEnv(over: { readonly user?: string; readonly database?: string }): Record<string, string>
  /** An emulator of this row alone (for injected faults); closed at the end of the row. */
  emulator(): Promise<HopsworksEmulator>
  /** An 8 MB tmpfs mounted for this row (unmounted at its end): a disk that fills up. */
  tmpfs(): Promise<string>
  /** The emulators made by emulator(). */
  readonly emulators: HopsworksEmulator[]
  /** True when the table still exists in the file's schema. */
  tableExists(name: string): Promise<boolean>
}

interface Row {
  readonly n: number
  /** README: what the user did. */
  readonly input: string
  /** README: the command that shows it (fixture paths relative to the repository). */
  readonly command: string
  readonly code: EtlErrorCode
  readonly exit: 1 | 2 | 3
  /** README: a literal part of the message (stderr must contain it). */
  readonly says: string
  /** Stage files that must not exist in the data folder afterwards. Default: extracted.csv and transformed.csv. */
  readonly absent?: readonly string[]
  /** Feature store folders (data/feature_store/*) that may exist afterwards (a previous, successful run's). Default none. */
  readonly store?: readonly string[]
  /** A secret the run was given: it must appear nowhere (stdout, stderr, any file the run wrote). */
  readonly secret?: string
  readonly run: (s: Scene) => Promise<CliResult>
  /** Extra checks of the row. */
  readonly check?: (t: Test, s: Scene, r: CliResult) => Promise<void>
}

const ages = ['--table', 'ages', '--suite', fx('ages.json')]

/** Runs a first, successful load, then the row's command. */
async function afterGoodRun(s: Scene, first: readonly string[], second: readonly string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const ok = await s.etl(first, extra)
  if (ok.code !== 0) throw new Error(`the first, good run failed (${ok.code}): ${ok.stderr}`)
  return s.etl(second, extra)
}

/** The five-command steps that leave validation results of an older extract beside a newer extract. */
const staleResults: readonly (readonly string[])[] = [['extract', ...ages.slice(0, 2)], ['validate', ...ages.slice(2)], ['meta-validate', ...ages.slice(2)], ['extract', '--table', 'ages_notes']]

/** Runs `steps` (each must exit 0), then the row's command (none when empty). */
async function afterSteps(s: Scene, steps: readonly (readonly string[])[], last: readonly string[]): Promise<CliResult> {
  for (const step of steps) {
    const r = await s.etl(step)
    if (r.code !== 0) throw new Error(`etl ${step.join(' ')} failed (${r.code}): ${r.stderr}`)
  }
  return last.length ? s.etl(last) : { code: 0, signal: null, stdout: '', stderr: '' }
}

/** Checks that a Hopsworks row's emulator never saw the feature group made. */
async function noFeatureGroup(t: Test, s: Scene): Promise<void> {
  for (const emu of [s.hw, ...s.emulators]) t.notOk(emu.featureGroup('prostate_group', 1), 'no feature group made in Hopsworks')
}

const ROWS: readonly Row[] = [
  // ── command-line flags ──
  { n: 1, input: 'an unknown flag', command: 'etl extract --bogus', code: 'ETL_USAGE', exit: 2, says: "Unknown option '--bogus'",
    run: (s) => s.etl(['extract', '--bogus']),
    check: async (t, _s, r) => void t.match(r.stderr, 'Run `etl extract --help` for its flags.') },
  { n: 2, input: 'an unknown command', command: 'etl explode', code: 'ETL_USAGE', exit: 2, says: 'unknown command: explode',
    run: (s) => s.etl(['explode']) },
  { n: 3, input: 'a flag without its value', command: 'etl extract --table', code: 'ETL_USAGE', exit: 2, says: "Option '--table <value>' argument missing",
    run: (s) => s.etl(['extract', '--table']) },
  { n: 4, input: 'a value not among the choices', command: 'etl run --on-invalid maybe', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --on-invalid: expected abort or warn, got "maybe"',
    run: (s) => s.etl(['run', '--on-invalid', 'maybe']) },
  { n: 5, input: 'a batch size that is not a number', command: 'etl extract --batch-size ten', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --batch-size: expected an integer from 1 to 100000, got "ten"',
    run: (s) => s.etl(['extract', '--batch-size', 'ten']) },
  { n: 6, input: 'a batch size over the limit', command: 'etl extract --batch-size 1000000', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --batch-size: expected an integer from 1 to 100000, got "1000000"',
    run: (s) => s.etl(['extract', '--batch-size', '1000000']) },
  { n: 7, input: 'both a table and a query', command: "etl extract --table ages --query 'SELECT 1'", code: 'ETL_USAGE', exit: 2,
    says: 'give either --table or --query, not both',
    run: (s) => s.etl(['extract', '--table', 'ages', '--query', 'SELECT 1']) },
  { n: 8, input: 'a stray argument', command: 'etl extract ages', code: 'ETL_USAGE', exit: 2, says: 'unexpected argument: ages',
    run: (s) => s.etl(['extract', 'ages']) },
  { n: 9, input: 'appending rows whose ids are derived (a re-run would store every row twice)', command: 'etl run --write append', code: 'ETL_USAGE', exit: 2,
    says: '--write append with derived ids (the default --id)',
    run: (s) => s.etl(['run', '--write', 'append']) },
  { n: 10, input: 'a missing-value policy that does not exist', command: 'etl run --missing sometimes', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --missing: expected keep, drop or fill:VALUE',
    run: (s) => s.etl(['run', '--missing', 'sometimes']) },
  { n: 11, input: 'a feature group name Hopsworks refuses', command: 'etl run --feature-group Prostate-Group', code: 'ETL_CONFIG', exit: 2,
    says: '/featureGroup/name: must match pattern "^[a-z][a-z0-9_]{0,62}$"',
    run: (s) => s.etl(['run', '--feature-group', 'Prostate-Group']) },
  { n: 12, input: 'a webhook that is not http(s)', command: 'etl run --webhook ftp://hooks.example/etl', code: 'ETL_CONFIG', exit: 2,
    says: '/notifications/0/url: must match pattern "^https?://"',
    run: (s) => s.etl(['run', '--webhook', 'ftp://hooks.example/etl']) },
  { n: 13, input: 'a cron field out of range', command: 'etl schedule --cron "61 * * * *"', code: 'ETL_USAGE', exit: 2,
    says: 'minute: 61 is out of range 0-59',
    run: (s) => s.etl(['schedule', '--cron', '61 * * * *']) },
  { n: 14, input: 'a run id that does not exist', command: 'etl runs 20990101T000000000Z-nope', code: 'ETL_USAGE', exit: 2,
    says: 'no run 20990101T000000000Z-nope in',
    run: (s) => s.etl(['runs', '20990101T000000000Z-nope']) },
  { n: 15, input: '`--sink hopsworks` with no `HOPSWORKS_*` settings', command: 'etl run --sink hopsworks', code: 'ETL_CONFIG', exit: 2,
    says: '--sink hopsworks needs HOPSWORKS_HOST, HOPSWORKS_API_KEY and HOPSWORKS_PROJECT',
    run: (s) => s.etl(['run', '--sink', 'hopsworks']) },

  // ── etl.config.json ──
  { n: 16, input: '`etl.config.json` is not JSON: `{ "table": "ages", }`', command: 'etl extract', code: 'ETL_CONFIG', exit: 2,
    says: 'etl.config.json: not valid JSON',
    run: async (s) => (await s.file('etl.config.json', '{ "table": "ages", }'), s.etl(['extract'])) },
  { n: 17, input: 'a setting of the wrong type: `{ "batchSize": "ten" }`', command: 'etl extract', code: 'ETL_CONFIG', exit: 2,
    says: '/batchSize: must be integer',
    run: async (s) => (await s.file('etl.config.json', '{ "batchSize": "ten" }'), s.etl(['extract'])) },
  { n: 18, input: 'an unknown setting: `{ "tabel": "ages" }`', command: 'etl extract', code: 'ETL_CONFIG', exit: 2,
    says: 'unknown setting "tabel"',
    run: async (s) => (await s.file('etl.config.json', '{ "tabel": "ages" }'), s.etl(['extract'])) },
  { n: 19, input: 'both `table` and `query` in `etl.config.json`', command: 'etl extract', code: 'ETL_CONFIG', exit: 2,
    says: 'give either table or query, not both',
    run: async (s) => (await s.file('etl.config.json', '{ "table": "ages", "query": "SELECT 1" }'), s.etl(['extract'])) },
  { n: 20, input: 'a config file that does not exist', command: 'etl extract --config prod.json', code: 'ETL_CONFIG', exit: 2,
    says: 'config file not found:',
    run: (s) => s.etl(['extract', '--config', 'prod.json']) },

  // ── .env ──
  { n: 21, input: '`.env`: `DATABASE_URL` that is not a URL (a `/` in the password)', command: 'etl extract', code: 'ETL_CONFIG', exit: 2,
    says: 'DATABASE_URL is not a valid URL: postgres://***@127.0.0.1:5432/test', secret: 'Pa55/word-x9',
    run: async (s) => (await s.file('.env', 'DATABASE_URL=postgres://etl:Pa55/word-x9@127.0.0.1:5432/test\n'), s.etlWith(cleanEnv(), ['extract'])) },
  { n: 22, input: '`.env`: `PGPORT=abc`', command: 'etl extract', code: 'ETL_CONFIG', exit: 2, says: 'PGPORT must be a port number, got "abc"',
    run: async (s) => (await s.file('.env', 'PGHOST=127.0.0.1\nPGPORT=abc\n'), s.etlWith(cleanEnv(), ['extract'])) },
  { n: 23, input: '`.env`: `HOPSWORKS_API_KEY` alone', command: 'etl run', code: 'ETL_CONFIG', exit: 2,
    says: 'Hopsworks is only partly configured: set HOPSWORKS_HOST, HOPSWORKS_PROJECT', secret: WRONG_API_KEY,
    run: async (s) => (await s.file('.env', `HOPSWORKS_API_KEY=${WRONG_API_KEY}\n`), s.etl(['run'])) },
  { n: 24, input: '`.env`: `HOPSWORKS_HOST=ftp://127.0.0.1`', command: 'etl run', code: 'ETL_CONFIG', exit: 2,
    says: 'HOPSWORKS_HOST must use http or https, got ftp:',
    run: async (s) => (await s.file('.env', `HOPSWORKS_HOST=ftp://127.0.0.1\nHOPSWORKS_API_KEY=${WRONG_API_KEY}\nHOPSWORKS_PROJECT=demo\n`), s.etl(['run'])) },

  // ── suite files ──
  { n: 25, input: 'a suite file that does not exist', command: 'etl run --table ages --suite none.json', code: 'ETL_SUITE', exit: 2,
    says: 'cannot read suite',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', 'none.json']) },
  { n: 26, input: 'a suite file that is not JSON', command: 'etl run --table ages --suite test/cli/bad-inputs/not-json.json', code: 'ETL_SUITE', exit: 2,
    says: 'not-json.json: not valid JSON',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('not-json.json')]) },
  { n: 27, input: 'an unknown expectation type', command: 'etl run --table ages --suite test/cli/bad-inputs/unknown-type.json', code: 'ETL_SUITE', exit: 2,
    says: 'expectation #0 (expect_column_values_to_be_magic): unknown expectation type',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('unknown-type.json')]) },
  { n: 28, input: 'a kwarg the expectation does not take (`min`)', command: 'etl run --table ages --suite test/cli/bad-inputs/wrong-kwarg.json', code: 'ETL_SUITE', exit: 2,
    says: 'expectation #0 (expect_column_values_to_be_between): unknown kwarg "min"',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('wrong-kwarg.json')]) },
  { n: 29, input: '`min_value` > `max_value` (the expectation raises; Great Expectations catches it into a failed result)', command: 'etl run --table ages --suite test/cli/bad-inputs/min-over-max.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'raised an exception: min_value (80) cannot be greater than max_value (41)', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('min-over-max.json')]),
    check: async (t, _s, r) => void t.match(r.stderr, 'no expectation raised an exception') },
  { n: 30, input: 'the same with `"catch_exceptions": false`', command: 'etl run --table ages --suite test/cli/bad-inputs/min-over-max-raise.json',
    code: 'ETL_EXPECTATION', exit: 1, says: 'expectation #0 (expect_column_values_to_be_between): min_value (80) cannot be greater than max_value (41)',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('min-over-max-raise.json')]) },
  { n: 31, input: 'a meta suite with an unknown expectation type', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json --meta-suite test/cli/bad-inputs/meta-unknown-type.json',
    code: 'ETL_SUITE', exit: 2, says: 'unknown expectation type "expect_meta_to_be_magic"',
    run: (s) => s.etl(['run', ...ages, '--meta-suite', fx('meta-unknown-type.json')]) },

  // ── table names ──
  { n: 32, input: 'a table that does not exist', command: 'etl extract --table nope', code: 'ETL_UNKNOWN_TABLE', exit: 2, says: 'table not found: nope',
    run: (s) => s.etl(['extract', '--table', 'nope']) },
  { n: 33, input: 'a name with three parts', command: 'etl extract --table a.b.c', code: 'ETL_UNKNOWN_TABLE', exit: 2,
    says: 'table name has more than two parts: "a.b.c"',
    run: (s) => s.etl(['extract', '--table', 'a.b.c']) },
  { n: 34, input: 'SQL injection in `--table` (the name is quoted as one identifier, never run)', command: 'etl extract --table \'victim"; DROP TABLE victim; --\'',
    code: 'ETL_UNKNOWN_TABLE', exit: 2, says: 'table not found: victim"; DROP TABLE victim; --',
    run: (s) => s.etl(['extract', '--table', 'victim"; DROP TABLE victim; --']),
    check: async (t, s) => void t.ok(await s.tableExists('victim'), 'table victim is still there') },
  { n: 35, input: 'a source query with a syntax error', command: "etl extract --query 'SELEC 1'", code: 'ETL_DB_QUERY', exit: 1,
    says: 'reading the source query failed: syntax error at or near',
    run: (s) => s.etl(['extract', '--query', 'SELEC 1']) },

  // ── credentials and connection ──
  { n: 36, input: 'a wrong database password (`DATABASE_URL` or `PGPASSWORD`)', command: 'DATABASE_URL=postgres://postgres:<wrong>@127.0.0.1:<port>/postgres etl extract --table ages',
    code: 'ETL_DB_AUTH', exit: 1, says: 'database authentication failed for postgres@127.0.0.1:', secret: 'Wr0ng-Pa55word-BadInput',
    run: async (s) => {
      const server = await startEmbedded({ seed: false })
      try {
        return await s.etlWith(cleanEnv({ DATABASE_URL: `postgres://postgres:Wr0ng-Pa55word-BadInput@127.0.0.1:${server.config.port}/postgres` }), ['extract', '--table', 'ages'])
      } finally {
        await server.stop()
      }
    } },
  { n: 37, input: 'a database user that does not exist', command: 'PGUSER=no_such_user etl extract --table ages', code: 'ETL_DB_AUTH', exit: 1,
    says: 'database authentication failed for no_such_user@',
    run: (s) => s.etlWith(cleanEnv(s.dbEnv({ user: 'no_such_user' })), ['extract', '--table', 'ages']) },
  { n: 38, input: 'nothing listens at the host and port', command: 'PGHOST=127.0.0.1 PGPORT=1 etl extract --table ages', code: 'ETL_DB_CONNECT', exit: 1,
    says: 'cannot connect to PostgreSQL at postgres@127.0.0.1:1/test: connection refused',
    run: (s) => s.etlWith(cleanEnv({ PGHOST: '127.0.0.1', PGPORT: '1', PGUSER: 'postgres', PGDATABASE: 'test' }), ['extract', '--table', 'ages']) },
  { n: 39, input: 'a database that does not exist', command: 'PGDATABASE=no_such_db etl extract --table ages', code: 'ETL_DB_CONNECT', exit: 1,
    says: 'database does not exist:',
    run: (s) => s.etlWith(cleanEnv(s.dbEnv({ database: 'no_such_db' })), ['extract', '--table', 'ages']),
    check: async (t, _s, r) => void t.match(r.stderr, '/no_such_db') },

  // ── data values ──
  { n: 40, input: 'a column name that cannot be a feature name (`"Bad Name"`)', command: 'etl run --table bad_names', code: 'ETL_COLUMN_NAME', exit: 2,
    says: 'column "Bad Name" cannot be a feature name',
    run: (s) => s.etl(['run', '--table', 'bad_names']) },
  { n: 41, input: 'the source already has a `user_id` column', command: 'etl run --table has_user_id', code: 'ETL_COLUMN_NAME', exit: 2,
    says: 'the source already has a column "user_id"',
    run: (s) => s.etl(['run', '--table', 'has_user_id']) },
  { n: 42, input: 'derived ids over a key column that is not in the table', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json --id derived --key nosuch', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option key: no column "nosuch"',
    run: (s) => s.etl(['run', ...ages, '--id', 'derived', '--key', 'nosuch']) },
  { n: 43, input: 'a NULL in a key column of derived ids', command: 'etl run --table null_key --id derived --key k', code: 'ETL_TRANSFORM', exit: 1,
    says: 'key column "k" is NULL, so no derived id can be made', absent: ['transformed.csv'],
    run: (s) => s.etl(['run', '--table', 'null_key', '--id', 'derived', '--key', 'k']) },
  { n: 44, input: 'values failing the suite (ages 41-44 under `min_value: 45`)', command: 'etl run --table ages --suite test/cli/bad-inputs/ages-narrow.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'the quality gate stopped the load; nothing was loaded', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('ages-narrow.json')]),
    check: async (t, s, r) => {
      t.match(r.stderr, '4 of 10 unexpected (40%)')
      t.ok(existsSync(join(s.data, 'extracted.csv')), 'stage files are kept for inspection')
    } },
  { n: 45, input: 'an empty source table (every check would pass vacuously)', command: 'etl run --table no_rows --suite test/cli/bad-inputs/ages.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'no expectation passed vacuously', absent: [],
    run: (s) => s.etl(['run', '--table', 'no_rows', '--suite', fx('ages.json')]) },
  { n: 46, input: 'a local feature group already loaded with another schema (a run of table `ages` came first)', command: 'etl run --table ages_notes --suite test/cli/bad-inputs/ages.json',
    code: 'ETL_SINK', exit: 1, says: 'already exists in the local feature store', absent: [], store: ['prostate_group_1'],
    run: (s) => afterGoodRun(s, ['run', ...ages], ['run', '--table', 'ages_notes', '--suite', fx('ages.json')]),
    check: async (t, s) => {
      const manifest = JSON.parse(await readFile(join(s.data, 'feature_store/prostate_group_1/manifest.json'), 'utf8')) as { rows: number; loads: unknown[] }
      t.equal(manifest.rows, 10, 'the store still holds the first run')
      t.equal(manifest.loads.length, 1, 'one load only')
    } },

  // ── stage CSV files (etl validate / transform / load) ──
  { n: 47, input: '`--input` names a file that does not exist', command: 'etl validate --input missing.csv --suite test/cli/bad-inputs/ages.json', code: 'ETL_INPUT', exit: 2,
    says: 'input file not found:', absent: ['extracted.csv', 'transformed.csv', 'extract_validation_results.csv'],
    run: (s) => s.etl(['validate', '--input', 'missing.csv', '--suite', fx('ages.json')]) },
  { n: 48, input: 'a ragged row in a stage CSV', command: 'etl transform --input test/cli/bad-inputs/ragged.csv --id nanoid', code: 'ETL_INPUT', exit: 2,
    says: 'is not valid CSV: Invalid Record Length: expect 2, got 1 on line 3',
    run: (s) => s.etl(['transform', '--input', fx('ragged.csv'), '--id', 'nanoid']) },
  { n: 49, input: 'a stage CSV without its `.schema.json` sidecar', command: 'etl validate --input test/cli/bad-inputs/no-sidecar.csv --suite test/cli/bad-inputs/ages.json', code: 'ETL_INPUT', exit: 2,
    says: 'schema sidecar not found:', absent: ['extracted.csv', 'transformed.csv', 'extract_validation_results.csv'],
    run: (s) => s.etl(['validate', '--input', fx('no-sidecar.csv'), '--suite', fx('ages.json')]) },
  { n: 50, input: 'a CSV header that does not match its sidecar', command: 'etl validate --input test/cli/bad-inputs/header-mismatch.csv --suite test/cli/bad-inputs/ages.json', code: 'ETL_INPUT', exit: 2,
    says: 'does not match its schema sidecar', absent: ['extracted.csv', 'transformed.csv', 'extract_validation_results.csv'],
    run: (s) => s.etl(['validate', '--input', fx('header-mismatch.csv'), '--suite', fx('ages.json')]) },
  { n: 51, input: '`etl load` before the data was validated', command: 'etl load', code: 'ETL_QUALITY_GATE', exit: 3,
    says: 'first (or pass --on-invalid warn to load unvalidated data)',
    run: (s) => s.etl(['load']) },

  // ── data folder ──
  { n: 52, input: 'a data folder that cannot be made (a file is in the way)', command: 'etl extract --table ages --data-dir not-a-folder/data', code: 'ETL_DATA_DIR', exit: 2,
    says: 'the data folder cannot be written:',
    run: async (s) => (await s.file('not-a-folder', 'a file\n'), s.etl(['extract', '--table', 'ages', '--data-dir', 'not-a-folder/data'])) },

  // ── Hopsworks answers (the emulator) ──
  { n: 53, input: 'Hopsworks answers 401: a wrong API key', command: 'HOPSWORKS_API_KEY=<wrong> etl run --table ages --suite test/cli/bad-inputs/ages.json', code: 'ETL_HOPSWORKS_AUTH', exit: 1,
    says: 'rejected the API key', secret: WRONG_API_KEY,
    run: async (s) => (await s.file('etl.config.json', FAST_POLL), s.etl(['run', ...ages], s.hw.env({ HOPSWORKS_API_KEY: WRONG_API_KEY }))),
    check: noFeatureGroup },
  { n: 54, input: 'Hopsworks answers 404: no such project', command: 'HOPSWORKS_PROJECT=nosuchproject etl run --table ages --suite test/cli/bad-inputs/ages.json', code: 'ETL_HOPSWORKS', exit: 1,
    says: 'Hopsworks project "nosuchproject" was not found',
    run: async (s) => (await s.file('etl.config.json', FAST_POLL), s.etl(['run', ...ages], s.hw.env({ HOPSWORKS_PROJECT: 'nosuchproject' }))),
    check: noFeatureGroup },
  { n: 55, input: 'Hopsworks answers 500 to the first call (not retried)', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json', code: 'ETL_HOPSWORKS', exit: 1,
    says: 'failed: HTTP 500, 120000 A generic error occurred.',
    run: async (s) => {
      const emu = await s.emulator()
      emu.inject({ route: 'getProjectInfo', status: 500 })
      await s.file('etl.config.json', FAST_POLL)
      return s.etl(['run', ...ages], emu.env())
    },
    check: noFeatureGroup },
  { n: 56, input: 'Hopsworks answers 503 to the first call and its five retries', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json', code: 'ETL_HOPSWORKS', exit: 1,
    says: 'failed after 6 attempts: HTTP 503',
    run: async (s) => {
      const emu = await s.emulator()
      emu.inject({ route: 'getProjectInfo', status: 503, times: 6 })
      await s.file('etl.config.json', FAST_POLL)
      return s.etl(['run', ...ages], emu.env())
    },
    check: async (t, s) => {
      t.equal(s.emulators[0]!.count('getProjectInfo'), 6, 'one call and five retries')
      await noFeatureGroup(t, s)
    } },
  { n: 57, input: 'the Hopsworks ingestion job ends FAILED', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json', code: 'ETL_HOPSWORKS_JOB', exit: 1,
    says: 'ended FAILED', absent: [],
    run: async (s) => {
      const emu = await s.emulator()
      emu.failNextJob('FAILED')
      await s.file('etl.config.json', FAST_POLL)
      return s.etl(['run', ...ages], emu.env())
    },
    check: async (t, s) => {
      t.equal(s.emulators[0]!.count('startExecution'), 1, 'the job was started once')
      t.equal(s.emulators[0]!.rows('prostate_group', 1).length, 0, 'no row in the feature group')
    } },
  { n: 58, input: 'a Hopsworks feature group already there with another schema (a run of table `ages` came first)', command: 'etl run --table ages_notes --suite test/cli/bad-inputs/ages.json --feature-group schema_clash',
    code: 'ETL_HOPSWORKS_SCHEMA', exit: 1, says: 'already exists in project demo with a different schema', absent: [],
    run: async (s) => {
      await s.file('etl.config.json', FAST_POLL)
      const fg = ['--feature-group', 'schema_clash']
      return afterGoodRun(s, ['run', ...ages, ...fg], ['run', '--table', 'ages_notes', '--suite', fx('ages.json'), ...fg], s.hw.env())
    },
    check: async (t, s) => {
      t.equal(s.hw.rows('schema_clash', 1).length, 10, 'the feature group holds the first run only')
      t.notOk(Object.keys(s.hw.rows('schema_clash', 1)[0] ?? {}).includes('note'), 'no column of the refused data')
    } },
  { n: 59, input: 'a value that is not a number in an integer column of a stage CSV', command: 'etl transform --input test/cli/bad-inputs/not-a-number.csv --id nanoid', code: 'ETL_INPUT', exit: 2,
    says: 'column age is not valid int4: "forty"',
    run: (s) => s.etl(['transform', '--input', fx('not-a-number.csv'), '--id', 'nanoid']) },
  { n: 60, input: 'a schedule time zone that does not exist', command: 'etl schedule --cron "0 2 * * *" --tz Mars/Olympus', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --tz: expected UTC, local or an IANA time zone such as Europe/Oslo, got "Mars/Olympus"',
    run: (s) => s.etl(['schedule', '--cron', '0 2 * * *', '--tz', 'Mars/Olympus']) },
  { n: 61, input: '`--max-failures` that is not a positive integer', command: 'etl schedule --cron "0 2 * * *" --max-failures 0', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --max-failures: expected an integer >= 1, got "0"',
    run: (s) => s.etl(['schedule', '--cron', '0 2 * * *', '--max-failures', '0']) },

  // ── lineage of the stage files (etl validate / meta-validate / transform / load run alone) ──
  { n: 62, input: 'results of an older extract: `etl extract --table ages`, `etl validate`, `etl meta-validate`, then `etl extract --table ages_notes`', command: 'etl transform',
    code: 'ETL_LINEAGE', exit: 2, says: 'the results are of another extract: run', absent: ['transformed.csv', 'feature_store'],
    run: (s) => afterSteps(s, staleResults, ['transform']),
    check: async (t, _s, r) => void t.match(r.stderr, 'run `etl validate` and `etl meta-validate` again, then `etl transform`') },
  { n: 63, input: 'the same, with the new extract stamped anyway (`etl transform --input data/extracted.csv`)', command: 'etl load',
    code: 'ETL_LINEAGE', exit: 2, says: 'nothing was loaded: the results do not vouch for these rows', absent: ['feature_store'],
    run: (s) => afterSteps(s, [...staleResults, ['transform', '--input', 'data/extracted.csv']], ['load', '--suite', fx('ages.json')]) },
  { n: 64, input: '`extracted.csv` changed after `etl extract --table ages` wrote it', command: 'etl validate --suite test/cli/bad-inputs/ages.json',
    code: 'ETL_LINEAGE', exit: 2, says: 'is not the file its sidecar describes', absent: ['extract_validation_results.csv', 'transformed.csv'],
    run: async (s) => {
      await afterSteps(s, [['extract', '--table', 'ages']], [])
      const csv = join(s.data, 'extracted.csv')
      await writeFile(csv, (await readFile(csv, 'utf8')).replace('\n41,', '\n1,'))
      return s.etl(['validate', '--suite', fx('ages.json')])
    } },

  // ── suites: kwargs refused rather than ignored ──
  { n: 65, input: '`output_strftime_format` (Great Expectations\' SQL backend never applies it)', command: 'etl run --table ages --suite test/cli/bad-inputs/strftime-output.json',
    code: 'ETL_SUITE', exit: 2, says: 'expectation #0 (expect_column_max_to_be_between): output_strftime_format is not supported',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('strftime-output.json')]) },
  { n: 66, input: '`"allow_cross_type_comparisons": true`', command: 'etl run --table ages --suite test/cli/bad-inputs/cross-type.json',
    code: 'ETL_SUITE', exit: 2, says: 'allow_cross_type_comparisons true is not supported',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('cross-type.json')]) },
  { n: 67, input: '`"include_config": false`', command: 'etl run --table ages --suite test/cli/bad-inputs/no-config.json',
    code: 'ETL_SUITE', exit: 2, says: 'include_config false is not supported',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('no-config.json')]) },
  { n: 68, input: 'a `row_condition` the parser cannot read (`age >`)', command: 'etl run --table ages --suite test/cli/bad-inputs/bad-row-condition.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'raised an exception: row_condition "age >": expected a comparison', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('bad-row-condition.json')]) },
  { n: 69, input: 'a `row_condition` without `condition_parser`', command: 'etl run --table ages --suite test/cli/bad-inputs/row-condition-no-parser.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'raised an exception: condition_parser is required with a row_condition', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('row-condition-no-parser.json')]) },
  { n: 70, input: '`parse_strings_as_datetimes` on a column that is not a date or time', command: 'etl run --table ages --suite test/cli/bad-inputs/dates-on-numbers.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'raised an exception: parse_strings_as_datetimes is not supported on column age (int4)', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('dates-on-numbers.json')]) },
  { n: 71, input: 'sequential ids merged into the group (they restart at 1 each run)', command: 'etl run --id sequential --write merge', code: 'ETL_USAGE', exit: 2,
    says: '--write merge with --id sequential: sequential ids start at 1 again every run',
    run: (s) => s.etl(['run', '--id', 'sequential', '--write', 'merge']) },
  { n: 72, input: 'a stage CSV without the stable id column, transformed with derived ids', command: 'etl transform --input test/cli/bad-inputs/not-a-number.csv', code: 'ETL_INPUT', exit: 2,
    says: '--id derived takes the ids the source made',
    run: (s) => s.etl(['transform', '--input', fx('not-a-number.csv')]) },
  { n: 73, input: '--full-refresh without --incremental', command: 'etl run --full-refresh', code: 'ETL_USAGE', exit: 2,
    says: '--full-refresh only applies to an incremental load',
    run: (s) => s.etl(['run', '--full-refresh']) },
  { n: 74, input: 'an incremental load with random ids (the rows at the watermark would be stored twice)', command: 'etl run --incremental age --id nanoid', code: 'ETL_USAGE', exit: 2,
    says: '--incremental with --id nanoid',
    run: (s) => s.etl(['run', '--incremental', 'age', '--id', 'nanoid']) },
  { n: 75, input: 'an incremental load that replaces the group (it would keep only the new rows)', command: 'etl run --incremental age --write replace', code: 'ETL_USAGE', exit: 2,
    says: '--incremental with --write replace',
    run: (s) => s.etl(['run', '--incremental', 'age', '--write', 'replace']) },
  // ── the local feature store (lock, integrity) ──
  { n: 76, input: 'another live run holds the local feature group\'s lock', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json --lock-timeout 0',
    code: 'ETL_LOCKED', exit: 1, says: 'is locked by run other-run (pid', store: ['.prostate_group_1.lock'],
    run: async (s) => {
      await mkdir(join(s.data, 'feature_store'), { recursive: true })
      // This test process holds it: alive, so never taken as a dead holder's.
      await writeFile(join(s.data, 'feature_store/.prostate_group_1.lock'), JSON.stringify(currentHolder('other-run')))
      return s.etl(['run', ...ages, '--lock-timeout', '0'])
    } },
  { n: 77, input: 'a part of the local feature group cut short (its last line removed) after a good run', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json',
    code: 'ETL_STORE_INTEGRITY', exit: 1, says: 'the local feature store is damaged: run `etl store verify`', absent: [], store: ['prostate_group_1'],
    run: async (s) => {
      await afterSteps(s, [['run', ...ages]], [])
      await cutPart(s)
      return s.etl(['run', ...ages])
    },
    check: async (t, s) => void t.match(JSON.parse(await readFile(join(s.data, 'feature_store/prostate_group_1/manifest.json'), 'utf8')), { rows: 10, loads: [{}] }, 'the manifest as the good run left it') },
  { n: 78, input: 'the same store checked', command: 'etl store verify', code: 'ETL_STORE_INTEGRITY', exit: 1,
    says: 'distinct rows, the manifest says', absent: [], store: ['prostate_group_1'],
    run: async (s) => {
      await afterSteps(s, [['run', ...ages]], [])
      await cutPart(s)
      return s.etl(['store', 'verify'])
    } },
  { n: 79, input: '`etl store` without `verify`', command: 'etl store check', code: 'ETL_USAGE', exit: 2, says: 'etl store takes one subcommand, verify; got check',
    run: (s) => s.etl(['store', 'check']) },
  { n: 80, input: 'a lock timeout that is not a number', command: 'etl run --lock-timeout soon', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --lock-timeout: expected a number >= 0, got "soon"',
    run: (s) => s.etl(['run', '--lock-timeout', 'soon']) },
  { n: 81, input: '`result_format` with `"include_unexpected_rows": true` (the rows are not kept)', command: 'etl run --table ages --suite test/cli/bad-inputs/unexpected-rows.json',
    code: 'ETL_SUITE', exit: 2, says: 'result_format.include_unexpected_rows true is not supported',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('unexpected-rows.json')]) },
  // ── exact values: column names a stage can carry, the z-score prepass ──
  { n: 82, input: 'a source query that names a column twice', command: "etl extract --query 'SELECT 1 AS a, 2 AS a'", code: 'ETL_COLUMN_NAME', exit: 2,
    says: 'the source query has the column "a" twice',
    run: (s) => s.etl(['extract', '--query', 'SELECT 1 AS a, 2 AS a']) },
  { n: 83, input: 'a stage CSV that has a column twice (`age,age`)', command: 'etl validate --input test/cli/bad-inputs/dup-columns.csv --suite test/cli/bad-inputs/ages.json',
    code: 'ETL_COLUMN_NAME', exit: 2, says: 'has the column "age" twice',
    run: (s) => s.etl(['validate', '--input', fx('dup-columns.csv'), '--suite', fx('ages.json')]) },
  { n: 84, input: 'a table with no columns (and two rows)', command: 'etl extract --table no_columns', code: 'ETL_COLUMN_NAME', exit: 2,
    says: 'table no_columns has no columns: there is nothing to extract',
    run: (s) => s.etl(['extract', '--table', 'no_columns']) },
  { n: 85, input: 'a z-score expectation on a column that is not in the table', command: 'etl run --table ages --suite test/cli/bad-inputs/zscore-missing.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'raised an exception: column "nosuch" is not in the table', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('zscore-missing.json')]) },
  { n: 86, input: 'a z-score expectation on a text column', command: 'etl run --table ages_notes --suite test/cli/bad-inputs/zscore-text.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'raised an exception: column note (text) is not numeric: z-scores need numbers', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages_notes', '--suite', fx('zscore-text.json')]) },

  // ── the data folder: its lock, a full disk, run records ──
  { n: 87, input: 'another live run holds the data folder (`data/.etl.lock` names it)', command: 'etl extract --table ages --lock-timeout 0',
    code: 'ETL_LOCKED', exit: 1, says: 'is locked by run other-run',
    run: async (s) => {
      await mkdir(s.data, { recursive: true })
      await writeFile(join(s.data, '.etl.lock'), JSON.stringify(currentHolder('other-run')))
      return s.etl(['extract', '--table', 'ages', '--lock-timeout', '0'])
    } },
  { n: 88, input: 'the data folder on a full disk (an 8 MB tmpfs; table `big_rows` is ~12 MB as CSV)', command: 'etl extract --table big_rows --data-dir <tmpfs>/data',
    code: 'ETL_DISK_FULL', exit: 1, says: 'the disk is full:',
    run: async (s) => s.etl(['extract', '--table', 'big_rows', '--data-dir', join(await s.tmpfs(), 'data')]),
    check: async (t, _s, r) => {
      const data = /cannot hold (\S+)\/extracted\.csv/.exec(r.stderr)?.[1]
      t.ok(data, 'the message names the folder')
      t.same((await filesUnder(data ?? '/nonexistent')).filter((f) => f.endsWith('.tmp') || f.endsWith('extracted.csv')), [], 'nothing half-written on the full disk')
      t.match(r.stderr, /which needs at least \d+\.\d MB/, 'and the space needed')
    } },
  { n: 89, input: 'a run record cut short (half of its JSON)', command: 'etl runs 20260101T000000000Z-truncate',
    code: 'ETL_DATA_DIR', exit: 2, says: 'run 20260101T000000000Z-truncate is unreadable: the run record',
    run: async (s) => {
      await mkdir(join(s.data, 'runs'), { recursive: true })
      await writeFile(join(s.data, 'runs', '20260101T000000000Z-truncate.json'), '{"version": 1, "id": "20260101T000000000Z-trun')
      return s.etl(['runs', '20260101T000000000Z-truncate'])
    } },
  { n: 90, input: '`etl hopsworks` without `check`', command: 'etl hopsworks doctor', code: 'ETL_USAGE', exit: 2,
    says: 'etl hopsworks takes one subcommand, check; got doctor',
    run: (s) => s.etl(['hopsworks', 'doctor']) },
  { n: 91, input: '`etl hopsworks check` with no `HOPSWORKS_*` settings', command: 'etl hopsworks check', code: 'ETL_CONFIG', exit: 2,
    says: 'etl hopsworks check needs HOPSWORKS_HOST, HOPSWORKS_API_KEY and HOPSWORKS_PROJECT',
    run: (s) => s.etl(['hopsworks', 'check']) },
  { n: 92, input: '`.env`: `HOPSWORKS_STREAM_GROUPS=sometimes`', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json', code: 'ETL_CONFIG', exit: 2,
    says: 'HOPSWORKS_STREAM_GROUPS must be refuse or materialize, got "sometimes"',
    run: (s) => s.etl(['run', ...ages], s.hw.env({ HOPSWORKS_STREAM_GROUPS: 'sometimes' })),
    check: noFeatureGroup },
  { n: 93, input: 'an expectation suite name longer than Hopsworks stores (63 characters)', command: 'etl run --table ages --suite test/cli/bad-inputs/long-suite-name.json',
    code: 'ETL_HOPSWORKS', exit: 1, says: 'Hopsworks stores at most 63 characters in an expectation suite name', absent: [],
    run: async (s) => {
      const emu = await s.emulator()
      await s.file('etl.config.json', FAST_POLL)
      return s.etl(['run', '--table', 'ages', '--suite', fx('long-suite-name.json')], emu.env())
    },
    check: async (t, s) => {
      t.equal(s.emulators[0]!.count('startExecution'), 0, 'no ingestion job started')
      t.same(s.emulators[0]!.rows('prostate_group', 1), [], 'nothing loaded')
      t.equal(s.emulators[0]!.count('expectationSuite'), 0, 'nothing sent')
    } },
  { n: 94, input: 'an existing Hopsworks stream feature group (its offline table waits for a materialization job)', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json',
    code: 'ETL_HOPSWORKS_SCHEMA', exit: 1, says: 'is a stream feature group: a load writes it through Kafka', absent: [],
    run: async (s) => {
      const emu = await s.emulator()
      const res = await fetch(`${emu.url}/hopsworks-api/api/project/119/featurestores/1191/featuregroups`, {
        method: 'POST', headers: { authorization: `ApiKey ${emu.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'streamFeatureGroupDTO', name: 'prostate_group', version: 1, timeTravelFormat: 'HUDI', eventTime: 'datetime', features: [{ name: 'age', type: 'int' }, { name: 'target', type: 'int' }, { name: 'user_id', type: 'string', primary: true }, { name: 'datetime', type: 'timestamp' }] }),
      })
      if (res.status !== 201) throw new Error(`stream group not made: ${res.status}`)
      await s.file('etl.config.json', FAST_POLL)
      return s.etl(['run', ...ages], emu.env())
    },
    check: async (t, s) => {
      t.equal(s.emulators[0]!.count('ingestion'), 0, 'no ingestion job made')
      t.equal(s.emulators[0]!.count('upload'), 0, 'nothing uploaded')
    } },
  { n: 95, input: 'uploads disabled on the Hopsworks cluster (its upload policy)', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json', code: 'ETL_HOPSWORKS', exit: 1,
    says: 'uploading files is disabled on Hopsworks at', absent: [],
    run: async (s) => {
      const emu = await s.emulator()
      emu.state.variables.set('upload_policy', 'disabled')
      await s.file('etl.config.json', FAST_POLL)
      return s.etl(['run', ...ages], emu.env())
    },
    check: async (t, s) => void t.equal(s.emulators[0]!.state.featureGroups.length, 0, 'nothing created') },
  { n: 96, input: 'a log level that does not exist', command: 'etl extract --log-level loud', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --log-level: expected debug, info, warn, error or silent, got "loud"',
    run: (s) => s.etl(['extract', '--log-level', 'loud']) },
  { n: 97, input: '`LOG_LEVEL=chatty`', command: 'LOG_LEVEL=chatty etl extract', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option LOG_LEVEL: expected debug, info, warn, error or silent, got "chatty"',
    run: (s) => s.etl(['extract'], { LOG_LEVEL: 'chatty' }) },
  { n: 98, input: '`etl health` without `ETL_HEARTBEAT_FILE`', command: 'etl health', code: 'ETL_CONFIG', exit: 2,
    says: 'etl health reads the heartbeat file named by ETL_HEARTBEAT_FILE, which is not set',
    run: (s) => s.etl(['health']) },
  { n: 99, input: 'a heartbeat age that is not a number', command: 'ETL_HEARTBEAT_FILE=/tmp/hb etl health --max-age soon', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --max-age: expected a number of seconds > 0, got "soon"',
    run: (s) => s.etl(['health', '--max-age', 'soon'], { ETL_HEARTBEAT_FILE: join(s.cwd, 'hb') }) },
  { n: 100, input: '`--name` for a foreground schedule', command: 'etl schedule --cron "0 2 * * *" --name nightly', code: 'ETL_USAGE', exit: 2,
    says: '--name and --missed are for a distributed schedule: add --distributed',
    run: (s) => s.etl(['schedule', '--cron', '0 2 * * *', '--name', 'nightly']) },
  { n: 101, input: 'a distributed schedule\'s missed-tick policy that does not exist', command: 'etl schedule --cron "0 2 * * *" --distributed --missed sometimes', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --missed: expected skip or once, got "sometimes"',
    run: (s) => s.etl(['schedule', '--cron', '0 2 * * *', '--distributed', '--missed', 'sometimes']) },
  { n: 102, input: 'a distributed schedule name with a space', command: 'etl schedule --cron "0 2 * * *" --distributed --name "night run"', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --name: expected letters, digits, - and _ (up to 40), got "night run"',
    run: (s) => s.etl(['schedule', '--cron', '0 2 * * *', '--distributed', '--name', 'night run']) },
  { n: 103, input: '`etl notify` without a receiver', command: 'etl notify', code: 'ETL_USAGE', exit: 2,
    says: 'etl notify needs --test URL',
    run: (s) => s.etl(['notify']) },
  { n: 104, input: '`--keep-runs 0` (the run being recorded is always kept)', command: 'etl run --keep-runs 0', code: 'ETL_INVALID_OPTION', exit: 2,
    says: 'Invalid option --keep-runs: expected an integer from 1 to 100000, got "0"',
    run: (s) => s.etl(['run', '--keep-runs', '0']) },
  // ── profiles and history ──
  { n: 105, input: 'an `etl suite` subcommand that does not exist', command: 'etl suite propose', code: 'ETL_USAGE', exit: 2, says: 'unknown suite command: propose (expected suggest)',
    run: (s) => s.etl(['suite', 'propose']) },
  { n: 106, input: '`meta.history` with `runs` out of range', command: 'etl run --table ages --suite test/cli/bad-inputs/history-runs.json', code: 'ETL_SUITE', exit: 2,
    says: 'expectation #0 (expect_column_mean_to_be_between): meta.history runs must be an integer from 2 to 100, got 1',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('history-runs.json')]) },
  { n: 107, input: '`meta.history` on an expectation that observes no single value', command: 'etl run --table ages --suite test/cli/bad-inputs/history-row-level.json', code: 'ETL_SUITE', exit: 2,
    says: 'meta.history needs an aggregate expectation',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('history-row-level.json')]) },
  { n: 108, input: '`"catch_exceptions": "no"` (a text, not true or false)', command: 'etl run --table ages --suite test/cli/bad-inputs/catch-text.json',
    code: 'ETL_SUITE', exit: 2, says: 'catch_exceptions must be true or false, got "no"',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('catch-text.json')]) },
  { n: 109, input: '`result_format` with `"return_unexpected_index_query": true` (no query finds the rows)', command: 'etl run --table ages --suite test/cli/bad-inputs/index-query.json',
    code: 'ETL_SUITE', exit: 2, says: 'result_format.return_unexpected_index_query true is not supported',
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('index-query.json')]) },
  { n: 110, input: 'a `condition_parser` that does not exist (`sql`)', command: 'etl run --table ages --suite test/cli/bad-inputs/unknown-parser.json',
    code: 'ETL_QUALITY_GATE', exit: 3, says: 'raised an exception: condition_parser "sql" is not a valid enumeration member', absent: [],
    run: (s) => s.etl(['run', '--table', 'ages', '--suite', fx('unknown-parser.json')]) },
  { n: 111, input: 'an incremental load of a table without a primary key (an updated row would get a new id)', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json --incremental age', code: 'ETL_USAGE', exit: 2,
    says: '--incremental on table ages, which has no primary key', absent: ['extracted.csv', 'feature_store'],
    run: (s) => s.etl(['run', ...ages, '--incremental', 'age']) },
  { n: 112, input: 'an incremental cursor column the source does not have', command: 'etl run --table ages --suite test/cli/bad-inputs/ages.json --incremental nosuch --key age', code: 'ETL_USAGE', exit: 2,
    says: '--incremental nosuch: no such column in table ages', absent: ['extracted.csv', 'feature_store'],
    run: (s) => s.etl(['run', ...ages, '--incremental', 'nosuch', '--key', 'age']) },
  { n: 113, input: '--full-refresh and --since together', command: 'etl run --incremental age --full-refresh --since 40', code: 'ETL_USAGE', exit: 2,
    says: '--full-refresh reads every row and --since V only rows from V: give one of them',
    run: (s) => s.etl(['run', '--incremental', 'age', '--full-refresh', '--since', '40']) },
  { n: 114, input: 'into Hopsworks, a `numeric` of 22 digits (a `double` feature would round it)', command: 'etl run --table wide_numbers --suite test/cli/bad-inputs/ages.json',
    code: 'ETL_HOPSWORKS_SCHEMA', exit: 1, says: 'column big holds "41000000000000000000020.5" (numeric), which Hopsworks cannot store exactly', absent: [],
    run: async (s) => {
      const emu = await s.emulator()
      await s.file('etl.config.json', FAST_POLL)
      return s.etl(['run', '--table', 'wide_numbers', '--suite', fx('ages.json')], emu.env())
    },
    check: async (t, s) => {
      t.equal(s.emulators.length, 1)
      for (const emu of s.emulators) t.equal(emu.rows('prostate_group', 1).length, 0, 'no row loaded into Hopsworks')
    } },
]

/** Removes the last line of the first part of the local feature group that holds rows. */
async function cutPart(s: Scene): Promise<void> {
  const location = join(s.data, 'feature_store/prostate_group_1')
  const manifest = JSON.parse(await readFile(join(location, 'manifest.json'), 'utf8')) as { parts: { file: string; rows: number }[] }
  const part = join(location, manifest.parts.find((p) => p.rows > 0)!.file)
  await writeFile(part, (await readFile(part, 'utf8')).split(/(?<=\n)/).slice(0, -1).join(''))
}

// ───────────────────────────────── the run ─────────────────────────────────

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name))
  return out
}

const db = await testDb(t)
await db.client.query(`
  CREATE TABLE ages AS SELECT g AS age, (g % 2) AS target FROM generate_series(41, 50) g;
  CREATE TABLE ages_notes AS SELECT g AS age, (g % 2) AS target, 'n' || g AS note FROM generate_series(41, 45) g;
  CREATE TABLE no_rows (age int, target int);
  CREATE TABLE victim (a int);
  CREATE TABLE bad_names ("Bad Name" int); INSERT INTO bad_names VALUES (1);
  CREATE TABLE has_user_id (user_id int, a int); INSERT INTO has_user_id VALUES (1, 2);
  CREATE TABLE null_key (k int, v int); INSERT INTO null_key VALUES (1, 1), (NULL, 2);
  CREATE TABLE big_rows AS SELECT g AS id, repeat('x', 30) AS v FROM generate_series(1, 300000) g;
  CREATE TABLE wide_numbers AS SELECT g AS age, (g % 2) AS target, (g * 1000000000000000000000 + 20.5)::numeric AS big FROM generate_series(41, 42) g;
  CREATE TABLE no_columns (); INSERT INTO no_columns DEFAULT VALUES; INSERT INTO no_columns DEFAULT VALUES;
`)
const hw = await HopsworksEmulator.start()
t.teardown(() => hw.close())

function dbEnv(over: { readonly user?: string; readonly database?: string }): Record<string, string> {
  if (db.config.connectionString) {
    const u = new URL(db.config.connectionString)
    if (over.user) u.username = over.user
    if (over.database) u.pathname = `/${over.database}`
    return { ...db.env, DATABASE_URL: u.toString() }
  }
  return { ...db.env, ...(over.user ? { PGUSER: over.user } : {}), ...(over.database ? { PGDATABASE: over.database } : {}) }
}

async function scene(t: Test): Promise<Scene> {
  const cwd = await mkdtemp(join(tmpdir(), 'etl-bad-input-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const etlWith = (env: Record<string, string>, args: readonly string[]) => runEtl(args, { cwd, env: { ...env, NODE_COMPILE_CACHE: COMPILE_CACHE } })
  const emulators: HopsworksEmulator[] = []
  return {
    cwd,
    data: join(cwd, 'data'),
    hw,
    etl: (args, extra = {}) => etlWith(cleanEnv({ ...db.env, ...extra }), args),
    etlWith,
    file: (name, text) => writeFile(join(cwd, name), text),
    dbEnv,
    emulators,
    async emulator() {
      const emu = await HopsworksEmulator.start()
      t.teardown(() => emu.close())
      emulators.push(emu)
      return emu
    },
    async tmpfs() {
      const dir = await mkdtemp(join(tmpdir(), 'etl-bad-input-tmpfs-'))
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir])
      t.teardown(async () => {
        execFileSync('umount', [dir])
        await rm(dir, { recursive: true, force: true })
      })
      return dir
    },
    async tableExists(name) {
      const { rows } = await db.client.query<{ here: boolean }>('SELECT to_regclass($1) IS NOT NULL AS here', [name])
      return rows[0]?.here === true
    },
  }
}

// The slow rows first (the 503 row mostly waits out its retries), so they overlap the quick ones.
const SLOW_FIRST = [56, 36, 46]

function slowness(row: Row): number {
  const i = SLOW_FIRST.indexOf(row.n)
  return i < 0 ? 0 : SLOW_FIRST.length - i
}

// Rows are independent (own folder; faults only on an emulator of their own): run a few at once.
t.jobs = 4
for (const row of [...ROWS].sort((a, b) => slowness(b) - slowness(a))) {
  t.test(`row ${row.n}: ${row.input}`, async (t) => {
    const s = await scene(t)
    const r = await row.run(s)
    t.equal(r.code, row.exit, `exit ${row.exit}\n${r.stderr}`)
    t.equal(exitCodeOf(row.code), row.exit, 'the exit code follows from the error code')
    t.match(r.stderr, `${row.code}: `, `stderr names ${row.code}`)
    t.ok(r.stderr.includes(row.says), `stderr says ${JSON.stringify(row.says)}`)
    t.notMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace')

    const files = await filesUnder(s.data)
    t.same(files.filter((f) => f.endsWith('.tmp')), [], 'no temporary file left')
    for (const name of row.absent ?? ['extracted.csv', 'transformed.csv']) t.notOk(existsSync(join(s.data, name)), `no ${name}`)
    const store = join(s.data, 'feature_store')
    const groups = existsSync(store) ? (await readdir(store)).sort() : []
    t.same(groups, [...(row.store ?? [])].sort(), 'nothing committed to the local feature store')

    if (row.secret) {
      const written = await Promise.all((await filesUnder(s.cwd)).filter((f) => !f.endsWith('/.env')).map((f) => readFile(f, 'utf8')))
      t.notOk([r.stdout, r.stderr, ...written].some((text) => text.includes(row.secret!)), 'the secret appears nowhere')
    }
    await row.check?.(t, s, r)
  })
}

// ───────────────────────────── the README table ─────────────────────────────

/** The cells of a Markdown table row (`\|` is a literal bar). */
function cells(line: string): string[] {
  return line.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((c) => c.trim().replace(/\u0000/g, '|'))
}

/** A code span (double backticks when the text holds one). */
function code(s: string): string {
  return s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``
}

/** The table as README shows it (printed when the README is out of date). */
function markdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|')
  return [
    '| # | bad input | command | error code | exit | the message says |',
    '| --- | --- | --- | --- | --- | --- |',
    ...ROWS.map((r) => `| ${r.n} | ${esc(r.input)} | ${esc(code(r.command))} | \`${r.code}\` | ${r.exit} | ${esc(code(r.says))} |`),
  ].join('\n')
}

t.test('the README "Bad input" table has a row for every test and the same codes', async (t) => {
  t.ok(ROWS.length >= 32, 'at least 32 rows')
  t.same(ROWS.map((r) => r.n), ROWS.map((_, i) => i + 1), 'rows are numbered 1..n in order')
  const readme = await readFile(README, 'utf8')
  const start = readme.indexOf('\n## Bad input\n')
  t.ok(start >= 0, 'README has a "## Bad input" section')
  const section = readme.slice(start + 1).split(/\n## /)[0]!
  const table = section.split('\n').filter((l) => /^\|\s*\d+\s*\|/.test(l)).map(cells)
  let ok = t.same(table.map((c) => Number(c[0])), ROWS.map((r) => r.n), 'the README numbers the same rows')
  for (const row of ROWS) {
    const c = table.find((x) => Number(x[0]) === row.n)
    if (!c) continue
    ok = t.equal(c.length, 6, `row ${row.n}: six cells`) && ok
    ok = t.equal(c[2], code(row.command), `row ${row.n}: the command`) && ok
    ok = t.equal(c[3], `\`${row.code}\``, `row ${row.n}: error code`) && ok
    ok = t.equal(c[4], String(row.exit), `row ${row.n}: exit code`) && ok
    ok = t.ok(c[5]?.includes(row.says), `row ${row.n}: the message column quotes ${JSON.stringify(row.says)}`) && ok
  }
  if (!ok) t.comment(`expected table:\n${markdown()}`)
})
