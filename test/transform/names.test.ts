/**
 * planColumns: feature names (lowercased, ^[a-z][a-z0-9_]*$, at most 63),
 * collisions, the two new columns and their types, options checked at once.
 */
import t from 'tap'
import { planColumns, stamp } from '../../lib/transform/index.ts'
import type { Column } from '../../lib/types.ts'

const cols = (...spec: [string, string][]): readonly Column[] => Object.freeze(spec.map(([name, type]) => Object.freeze({ name, type })))

t.test('names are lowercased; the id and time columns come last, typed', async (t) => {
  const input = cols(['Target', 'int4'], ['lPSA', 'float8'], ['age', 'int4'])
  t.same(planColumns(input), [
    { name: 'target', type: 'int4' }, { name: 'lpsa', type: 'float8' }, { name: 'age', type: 'int4' },
    { name: 'user_id', type: 'text' }, { name: 'datetime', type: 'timestamptz' },
  ])
  t.equal(planColumns(input)[2], input[2], 'a column whose name fits is passed as it is')
  t.ok(Object.isFrozen(planColumns(input)))
  t.same(planColumns(input, { id: 'sequential' }).at(-2), { name: 'user_id', type: 'int8' }, 'sequential ids are int8')
  t.same(planColumns(input, { id: 'derived', key: ['age'] }).at(-2), { name: 'user_id', type: 'text' })
})

t.test('a name that cannot be made a feature name is an error naming it', async (t) => {
  t.throws(() => planColumns(cols(['age', 'int4'], ['2nd value', 'int4'])), {
    code: 'ETL_COLUMN_NAME',
    message: 'column "2nd value" cannot be a feature name: it does not start with a letter. Feature names match ^[a-z][a-z0-9_]*$ ' +
      `(at most 63 characters, upper case is lowered); rename it at the source, e.g. --query 'SELECT "2nd value" AS new_name, ...'`,
    details: { column: '2nd value' },
  })
  t.throws(() => planColumns(cols(['my value', 'text'])), { code: 'ETL_COLUMN_NAME', message: /^column "my value" cannot be a feature name: it holds characters other than a-z, 0-9 and _/ })
  t.throws(() => planColumns(cols(['Größe', 'text'])), { code: 'ETL_COLUMN_NAME', message: /^column "Größe" cannot be a feature name/ })
  t.throws(() => planColumns(cols(['', 'text'])), { code: 'ETL_COLUMN_NAME', message: /^column "" cannot be a feature name: it is empty/ })
  const long = 'a'.repeat(64)
  t.throws(() => planColumns(cols([long, 'text'])), { code: 'ETL_COLUMN_NAME', message: new RegExp(`^column "${long}" cannot be a feature name: it has 64 characters \\(at most 63\\)\\. `) })
  t.equal(planColumns(cols(['a'.repeat(63), 'text']))[0]!.name.length, 63, '63 characters fit')
})

t.test('two columns that lowercase alike are an error naming both', async (t) => {
  t.throws(() => planColumns(cols(['Age', 'int4'], ['age', 'int4'])), {
    code: 'ETL_COLUMN_NAME',
    message: 'columns "Age" and "age" both become the feature name "age"; rename one at the source (--query ... AS other_name)',
  })
})

t.test('user_id / datetime must not clash with a source column; another name can be configured', async (t) => {
  t.throws(() => planColumns(cols(['User_ID', 'int4'], ['age', 'int4'])), {
    code: 'ETL_COLUMN_NAME',
    message: 'the source already has a column "User_ID", which clashes with the id column "user_id" the transform adds; ' +
      'give the new column another name with the idColumn option ("idColumn" in etl.config.json), or rename the source column',
  })
  t.throws(() => planColumns(cols(['datetime', 'timestamptz'])), {
    code: 'ETL_COLUMN_NAME',
    message: /^the source already has a column "datetime", which clashes with the time column "datetime" .* with the datetimeColumn option/,
  })
  const renamed = planColumns(cols(['user_id', 'int4'], ['datetime', 'date']), { idColumn: 'row_uid', datetimeColumn: 'stamped_at' })
  t.same(renamed.map((c) => c.name), ['user_id', 'datetime', 'row_uid', 'stamped_at'])
})

t.test('options are checked at once, naming the option', async (t) => {
  const input = cols(['age', 'int4'], ['name', 'text'])
  // derived without key columns takes the ids the source made (its last column, named idColumn): no error here
  t.doesNotThrow(() => stamp({ id: 'derived' }), 'derived without a key: the source makes the ids')
  t.throws(() => stamp({ id: 'uuid' as 'nanoid' }), { code: 'ETL_INVALID_OPTION', message: 'Invalid option id: expected "nanoid", "sequential" or "derived", got "uuid"' })
  t.throws(() => stamp({ datetime: 'now' as 'run' }), { message: 'Invalid option datetime: expected "run" or "row", got "now"' })
  t.throws(() => stamp({ start: 1.5 }), { message: 'Invalid option start: expected a safe integer, got 1.5' })
  t.throws(() => stamp({ runTime: new Date('nope') }), { message: 'Invalid option runTime: expected a valid Date, got null' })
  t.throws(() => stamp({ idColumn: 'User ID' }), { message: 'Invalid option idColumn: expected a feature name (^[a-z][a-z0-9_]*$, at most 63 characters), got "User ID"' })
  t.throws(() => stamp({ idColumn: 'x', datetimeColumn: 'x' }), { message: 'Invalid option datetimeColumn: expected a name other than idColumn ("x"), got "x"' })
  t.throws(() => stamp({ idSize: 10 } as never), { code: 'ETL_INVALID_OPTION', message: /^Unknown option idSize \(known: id, key, / })
  t.throws(() => stamp({ missing: { default: 'fill' as 'keep' } }), { message: 'Invalid option missing.default: expected "keep", "drop" or {"fill": value}, got "fill"' })
  t.throws(() => stamp({ missing: { columns: { age: { fill: 1, x: 2 } as never } } }), { message: /^Invalid option missing.columns.age: expected/ })
  t.throws(() => stamp({ missing: { every: 'drop' } as never }), { message: 'Unknown option missing.every (known: default, columns)' })
  t.throws(() => stamp({ key: ['a', 'a'], id: 'derived' }), { message: 'Invalid option key: expected distinct column names, got ["a","a"]' })

  t.throws(() => planColumns(input, { id: 'derived', key: ['Age'] }), {
    code: 'ETL_INVALID_OPTION',
    message: 'Invalid option key: no column "Age" (did you mean "age"? columns go by their lowercased feature names); the columns are age, name',
  })
  t.throws(() => planColumns(input, { missing: { columns: { weight: 'drop' } } }), {
    code: 'ETL_INVALID_OPTION', message: 'Invalid option missing.columns.weight: no column "weight"; the columns are age, name',
  })
  t.throws(() => planColumns(input, { missing: { columns: { age: { fill: 'old' } } } }), {
    code: 'ETL_INVALID_OPTION', message: 'Invalid option missing.columns.age.fill: expected a fill value for a int4 column, got "old"',
  })
  t.throws(() => planColumns(input, { missing: { default: { fill: null } } }), {
    message: 'Invalid option missing.default.fill: expected a value (fill with null is the same as keep), got null',
  })
  t.throws(() => stamp({ columns: input, missing: { columns: { nope: 'drop' } } }), { code: 'ETL_INVALID_OPTION' }, 'with columns given, stamp() plans at once')
  t.doesNotThrow(() => planColumns(input, { key: ['nope'] }), 'key is only used by id derived')
})
