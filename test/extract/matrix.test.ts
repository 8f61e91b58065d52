// The round-trip matrix: every built-in type family (one table each, many values per table), each read under
// several session settings (a role's DateStyle, extra_float_digits 0 and 3, a role time zone, a URL with options, a
// role-in-database setting), compared value by value with what `psql` gives for the same rows. `etl run` reads
// the tables joined on `n` (one run per setting) and each value is checked in extracted.csv, transformed.csv, the
// local store's part files and the cursor path's lines. psql's reference is read once, under PostgreSQL's
// defaults spelled out here (so its text is the canonical text), and mapped as the README's value-mapping table says.
// Array elements are compared one by one with their own text (format('%s'), which uses the output function as COPY does).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import type { CastingContext } from 'csv-parse'
import { parse } from 'csv-parse/sync'
import { main } from '../../lib/cli/main.ts'
import { connect } from '../../lib/extract/connect.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { cachedLines } from '../../lib/csv/lines.ts'
import type { Batch } from '../../lib/types.ts'
import { baseDatabase, testDb } from '../support/pg.ts'

/** How a family's values are compared: the README's value mapping, written out independently here. */
type Kind = 'text' | 'int' | 'numeric' | 'float' | 'bool' | 'date' | 'ts' | 'json'
interface Family {
  readonly name: string
  readonly type: string
  readonly kind: Kind
  /** An array type: `kind` is its elements'. */
  readonly array?: boolean
  readonly values: readonly string[]
  /** Values the README says are carried as PostgreSQL's text (a JSON string in the stage files). */
  readonly asText?: readonly string[]
}

const fam = (name: string, type: string, kind: Kind, values: readonly string[], array = false, asText: readonly string[] = []): Family => ({ name, type, kind, values, array, asText })
/** json keeps a key twice in an object, which a parsed value cannot: such a json value is carried as its text (jsonb keeps the last). */
const duplicateKeys = ['{"a": 1, "a": 2}', '[{"k": 1, "k": {"k": 3}}]']
const jsonValues = [
  '{"a": 12345678901234567890123}', '1e400', '"123"', 'null', '[1, "1", 1.0, -0, 1E+2]', '{"b": 2, "a": [true, false, null]}',
  '12345678901234567890', '0.1000000000000000055511151231257827', '"\\u00e9 \\" ,"', '"[1]"', '[1]', '-0.0', '{}', '""',
]

/** The families; types named `S.` live in the test's schema (user types, some shadowing built-in names). */
function families(S: string): Family[] {
  return [
    fam('int2', 'int2', 'int', ['-32768', '0', '32767']),
    fam('int4', 'int4', 'int', ['-2147483648', '2147483647', '7']),
    fam('int8', 'int8', 'int', ['-9223372036854775808', '9007199254740993', '9223372036854775807', '42']),
    fam('oid', 'oid', 'text', ['0', '4294967295']),
    fam('numeric', 'numeric', 'numeric', ['0', '12.50', '-1.5e-10', 'NaN', 'Infinity', '-Infinity', '1234567890123456789012345678901234567890',
      '0.0000000000000000000000000000000000000001', '123456789012345.6', '-0.000']),
    fam('float8', 'float8', 'float', ['Infinity', '-Infinity', 'NaN', '-0', '0', '5e-324', '2.2250738585072014e-308', '1.7976931348623157e308',
      '0.1', '1e-7', '123456789012345680000', '3.141592653589793', '1e22', '-1.5e-300']),
    fam('float4', 'float4', 'float', ['Infinity', '-Infinity', 'NaN', '-0', '1.1', '3.4028235e38', '1e-45', '0.3', '16777217']),
    fam('bool', 'bool', 'bool', ['t', 'f']),
    fam('date', 'date', 'date', ['2024-02-29', '0044-03-15 BC', '0001-01-01 BC', '0001-01-01', '9999-12-31', '10000-01-01', '5874897-12-31',
      '4713-01-01 BC', 'infinity', '-infinity']),
    fam('timestamp', 'timestamp', 'ts', ['2024-01-02 03:04:05.123456', '0044-03-15 12:00:00 BC', '10000-01-01 00:00:00', '294276-12-31 23:59:59.999999',
      '4713-01-01 00:00:00 BC', '1970-01-01 00:00:00', 'infinity', '-infinity', '2000-02-29 23:59:59.5']),
    fam('timestamptz', 'timestamptz', 'ts', ['2024-01-02 03:04:05.5+05:45', '0044-03-15 12:00:00+00 BC', '10000-01-01 00:00:00+00',
      '1900-01-01 00:00:00 Europe/Amsterdam', 'infinity', '-infinity', '294276-12-31 23:59:59.999999+00', '1969-12-31 23:59:59.000001-03:30']),
    fam('time', 'time', 'text', ['00:00:00', '23:59:59.999999', '24:00:00', '12:34:56.5']),
    fam('timetz', 'timetz', 'text', ['12:00:00+05:45', '00:00:00-15:59', '23:59:59.999999+00']),
    fam('interval', 'interval', 'text', ['1 year 2 months -3 days 04:05:06.789', '-178000000 years', '00:00:00', 'P1Y2M3DT4H5M6S', '-1 days +00:00:01']),
    fam('bytea', 'bytea', 'text', ['\\x00ff27', '', 'hello, "world"', '\\x5c']),
    fam('money', 'money', 'text', ['1234.5', '-0.01', '92233720368547758.07', '0']),
    fam('inet', 'inet', 'text', ['192.168.0.1/24', '::1', '10.0.0.1', '2001:db8::/32']),
    fam('cidr', 'cidr', 'text', ['10.0.0.0/8', '2001:db8::/32']),
    fam('macaddr', 'macaddr', 'text', ['08:00:2b:01:02:03']),
    fam('macaddr8', 'macaddr8', 'text', ['08:00:2b:01:02:03:04:05']),
    fam('bit', 'bit(3)', 'text', ['101', '000']),
    fam('varbit', 'varbit', 'text', ['1', '', '1010101010101']),
    fam('uuid', 'uuid', 'text', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '00000000-0000-0000-0000-000000000000']),
    fam('xml', 'xml', 'text', ['<a b="1">x, y</a>', 'text only', '<e/>']),
    fam('tsvector', 'tsvector', 'text', ["a fat cat's", "'x y':1A,2B"]),
    fam('tsquery', 'tsquery', 'text', ['fat & (cat | !rat)']),
    fam('int4range', 'int4range', 'text', ['[1,5)', 'empty', '(,)', '[-3,7]']),
    fam('numrange', 'numrange', 'text', ['(1.50,2.25]']),
    fam('daterange', 'daterange', 'text', ['[2024-01-01,2024-02-01)', '[0044-03-15 BC,)']),
    fam('tstzrange', 'tstzrange', 'text', ['[2024-01-01 00:00+05,2024-02-01 00:00+00)', '(,infinity]']),
    fam('int4multirange', 'int4multirange', 'text', ['{[1,3),[5,8)}', '{}']),
    fam('point', 'point', 'text', ['(1,2)', '(-0,1e300)']),
    fam('line', 'line', 'text', ['{1,-1,0}']),
    fam('lseg', 'lseg', 'text', ['[(0,0),(1,1)]']),
    fam('box', 'box', 'text', ['(1,1),(0,0)']),
    fam('path', 'path', 'text', ['[(0,0),(1,1),(2,0)]', '((0,0),(1,1))']),
    fam('polygon', 'polygon', 'text', ['((0,0),(1,1),(1,0))']),
    fam('circle', 'circle', 'text', ['<(0,0),1.5>']),
    fam('enum', `${S}.mood`, 'text', ['happy', 'sad', 'NULL']),
    fam('domain', `${S}.posint`, 'int', ['1', '2147483647']),
    fam('composite', `${S}.pair`, 'text', ['(1,"x,y")', '(,)', '(2,"")']),
    fam('shadow_bool', `${S}."bool"`, 'text', ['yes', 'no']),
    fam('shadow_int4', `${S}."int4"`, 'text', ['abc', '12']),
    fam('shadow_json', `${S}."json"`, 'text', ['(1)', '()']),
    fam('shadow_float8', `${S}."float8"`, 'text', ['x']),
    fam('shadow__status', `${S}."_status"`, 'text', ['on', 'off']),
    fam('json', 'json', 'json', [...jsonValues, ...duplicateKeys], false, duplicateKeys),
    fam('jsonb', 'jsonb', 'json', [...jsonValues, ...duplicateKeys]),
    fam('int4_arr', 'int4[]', 'int', ['{1,NULL,3}', '{{1,2},{3,4}}', '[0:2]={1,2,3}', '{}', '{-2147483648}'], true),
    fam('int8_arr', 'int8[]', 'int', ['{9007199254740993,-9223372036854775808,1}'], true),
    fam('float8_arr', 'float8[]', 'float', ['{Infinity,-Infinity,NaN,-0,1.5,5e-324}', '{{1,2},{NaN,-Infinity}}'], true),
    fam('float4_arr', 'float4[]', 'float', ['{Infinity,-Infinity,NaN,-0,1.1}'], true),
    fam('numeric_arr', 'numeric[]', 'numeric', ['{1.50,NaN,1234567890123456789012345678901234567890,-Infinity}'], true),
    fam('text_arr', 'text[]', 'text', ['{"a,b","",NULL,"NULL","\\"q\\"","x;y"}', '{{a,b},{c,d}}', '[2:3]={x,y}'], true),
    fam('bool_arr', 'bool[]', 'bool', ['{t,f,NULL}'], true),
    fam('box_arr', 'box[]', 'text', ['{(1,1),(0,0);(2,2),(1,1)}'], true),
    fam('date_arr', 'date[]', 'date', ['{2024-01-01,0044-03-15 BC,infinity,10000-01-01}'], true),
    fam('timestamptz_arr', 'timestamptz[]', 'ts', ['{"2024-01-02 03:04:05+05:45","0044-03-15 12:00:00+00 BC",-infinity}'], true),
    fam('timestamp_arr', 'timestamp[]', 'ts', ['{"2024-01-02 03:04:05.25","10000-01-01 00:00:00"}'], true),
    fam('jsonb_arr', 'jsonb[]', 'json', ['{"{\\"a\\": 12345678901234567890}",null,"\\"s\\"","null"}'], true),
    fam('interval_arr', 'interval[]', 'text', ['{"1 day","-00:00:01"}'], true),
    fam('uuid_arr', 'uuid[]', 'text', ['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'], true),
    fam('enum_arr', `${S}.mood[]`, 'text', ['{happy,sad}', '{}'], true),
    fam('shadow_bool_arr', `${S}."bool"[]`, 'text', ['{yes,no}'], true),
    fam('composite_arr', `${S}.pair[]`, 'text', ['{"(1,\\"x,y\\")","(,)"}'], true),
    fam('json_arr', 'json[]', 'json', ['{"{\\"a\\": 1.0, \\"b\\": 1e400}","[1, 2]","\\"x\\""}', '{"null"}'], true),
    fam('int2_arr', 'int2[]', 'int', ['{{{1,2}},{{3,NULL}}}'], true),
    fam('bytea_arr', 'bytea[]', 'text', ['{"\\\\x00ff",NULL}'], true),
    fam('money_arr', 'money[]', 'text', ['{1.50,-2}'], true),
    fam('inet_arr', 'inet[]', 'text', ['{10.0.0.1/8,::1}'], true),
    fam('varbit_arr', 'varbit[]', 'text', ['{101,""}'], true),
    fam('xml_arr', 'xml[]', 'text', ['{"<a>x,y</a>"}'], true),
    fam('tsvector_arr', 'tsvector[]', 'text', ['{"a b"}'], true),
    fam('range_arr', 'int4range[]', 'text', ['{"[1,5)",empty}'], true),
    fam('point_arr', 'point[]', 'text', ['{"(1,2)","(-0,1e300)"}'], true),
    fam('time_arr', 'time[]', 'text', ['{00:00:00,24:00:00}'], true),
    fam('timetz_arr', 'timetz[]', 'text', ['{12:00:00+05:45}'], true),
    fam('domain_arr', `${S}.posint[]`, 'int', ['{1,2147483647}'], true),
    fam('oid_arr', 'oid[]', 'text', ['{0,4294967295}'], true),
    fam('char_arr', '"char"[]', 'text', ['{a,b}'], true),
  ]
}

/** The settings each read is made under: a role's own settings (ALTER ROLE ... SET), or options in the URL. */
interface Setting {
  readonly name: string
  readonly role?: Readonly<Record<string, string>>
  readonly inDatabase?: Readonly<Record<string, string>>
  readonly urlOptions?: string
}
const settings: Setting[] = [
  { name: 'defaults' },
  { name: 'DateStyle SQL, DMY + extra_float_digits 0', role: { DateStyle: 'SQL, DMY', extra_float_digits: '0' } },
  { name: 'DateStyle German + IntervalStyle sql_standard + bytea_output escape', role: { DateStyle: 'German', IntervalStyle: 'sql_standard', bytea_output: 'escape' } },
  { name: 'DateStyle Postgres, YMD + extra_float_digits 3 + IntervalStyle iso_8601', role: { DateStyle: 'Postgres, YMD', extra_float_digits: '3', IntervalStyle: 'iso_8601' } },
  { name: 'role TimeZone Asia/Kathmandu', role: { TimeZone: 'Asia/Kathmandu' } },
  { name: 'role in database: DateStyle Postgres, DMY + TimeZone Pacific/Chatham', inDatabase: { DateStyle: 'Postgres, DMY', TimeZone: 'Pacific/Chatham' } },
  { name: 'URL ?options=', urlOptions: '-c DateStyle=SQL,DMY -c TimeZone=America/St_Johns -c extra_float_digits=-15 -c IntervalStyle=postgres_verbose -c bytea_output=escape' },
]

/** PostgreSQL's defaults, for psql's reference text. */
const CANONICAL = '-c DateStyle=ISO,MDY -c TimeZone=UTC -c extra_float_digits=1 -c IntervalStyle=postgres -c bytea_output=hex -c lc_monetary=C -c client_encoding=UTF8'

interface Field {
  readonly text: string
  readonly quoted: boolean
}

function readCsv(text: string): Field[][] {
  let quoted: boolean[] = []
  const records: Field[][] = []
  parse(text, {
    relax_column_count: true,
    cast: (v: string, ctx: CastingContext) => {
      if (ctx.index === 0) quoted = []
      quoted[ctx.index] = ctx.quoting
      return v
    },
    on_record: (rec: string[]) => {
      records.push(rec.map((v, i) => ({ text: v, quoted: quoted[i] === true })))
      return rec
    },
  })
  return records
}

/** Significant digits of a decimal text (no sign, point or leading zeros). */
function significant(s: string): number {
  return s.replace(/^[-+]/, '').replace('.', '').replace(/^0+/, '').length
}

/** A date or timestamp in ISO 8601 as the README says (astronomical years: 1 BC is 0000, 44 BC is -0043). */
function isoOf(text: string, kind: 'date' | 'ts'): string {
  if (text === 'infinity' || text === '-infinity') return text
  const bc = text.endsWith(' BC')
  const s = bc ? text.slice(0, -3) : text
  const m = /^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d:\d\d:\d\d(?:\.\d+)?)(\+00)?)?$/.exec(s)
  if (!m) return `unexpected reference ${text}`
  let year = Number(m[1])
  if (bc) year = 1 - year
  const y = year < 0 ? '-' + String(-year).padStart(4, '0') : year > 9999 ? '+' + String(year) : String(year).padStart(4, '0')
  const date = `${y}-${m[2]}-${m[3]}`
  return kind === 'date' ? date : `${date}T${m[4]}Z`
}

/** A JSON text with its numbers kept as written (objects' keys in order), for comparing two JSON texts exactly. */
function canonicalJson(text: string): string {
  return JSON.stringify(JSON.parse(text, (_k, v, ctx?: { source?: string }) => (typeof v === 'number' ? (JSON as unknown as { rawJSON(s: string): unknown }).rawJSON(ctx!.source!) : v)))
}

/** Whether our field is the value psql gave (`ref` null: NULL). */
function sameScalar(kind: Kind, ours: Field | undefined, ref: string | null): boolean {
  if (!ours) return false
  if (ref === null) return ours.text === '' && !ours.quoted
  if (ours.text === '' && !ours.quoted) return false
  const o = ours.text
  switch (kind) {
    case 'text': case 'int':
      return o === ref
    case 'numeric':
      return /^[-+]?[\d.]+$/.test(ref) && significant(ref) <= 15 ? o === String(Number(ref)) : o === ref
    case 'float':
      return Object.is(Number(o), Number(ref)) && o !== ''
    case 'bool':
      return o === (ref === 't' ? 'true' : 'false')
    case 'date': case 'ts':
      return o === isoOf(ref, kind)
    case 'json':
      try {
        return canonicalJson(o) === canonicalJson(ref)
      } catch {
        return false
      }
  }
}

/** An element of our JSON array as the text its scalar comparison reads. */
function elementField(kind: Kind, v: unknown): Field {
  if (v === null) return { text: '', quoted: false }
  if (kind === 'json') return { text: JSON.stringify(v), quoted: true }
  if (typeof v === 'number') return { text: Object.is(v, -0) ? '-0' : String(v), quoted: false }
  if (typeof v === 'boolean') return { text: v ? 'true' : 'false', quoted: false }
  if (typeof v === 'object' && v !== null && 'rawJSON' in v) return { text: String((v as { rawJSON: string }).rawJSON), quoted: false }
  return { text: String(v), quoted: true }
}

function sameArray(kind: Kind, ours: Field | undefined, ref: { text: string | null; dims: string | null; elements: (string | null)[] | null }): boolean {
  if (!ours) return false
  if (ref.text === null) return ours.text === '' && !ours.quoted
  let value: unknown
  try {
    value = JSON.parse(ours.text, (_k, v, ctx?: { source?: string }) => (typeof v === 'number' ? (JSON as unknown as { rawJSON(s: string): unknown }).rawJSON(ctx!.source!) : v))
  } catch {
    return false
  }
  // Bounds other than 1, or a json element that is a JSON null: carried as PostgreSQL's text.
  if ((ref.dims && /\[(?!1:)/.test(ref.dims)) || (kind === 'json' && ref.elements?.includes('null'))) return value === ref.text
  if (!ref.dims) return Array.isArray(value) && value.length === 0
  const lengths = [...ref.dims.matchAll(/\[1:(\d+)\]/g)].map((m) => Number(m[1]))
  const flat: unknown[] = []
  const walk = (v: unknown, depth: number): boolean => {
    if (depth === lengths.length) {
      flat.push(v)
      return true
    }
    return Array.isArray(v) && v.length === lengths[depth] && v.every((x) => walk(x, depth + 1))
  }
  if (!walk(value, 0)) return false
  return flat.length === ref.elements!.length && flat.every((v, i) => {
    const e = ref.elements![i]!
    if (typeof v === 'object' && v !== null && 'rawJSON' in v) v = Number((v as { rawJSON: string }).rawJSON) // a number as written
    if (kind === 'float' && typeof v === 'string' && /^(-?Infinity|NaN)$/.test(v)) v = Number(v)
    return sameScalar(kind, elementField(kind, v), e)
  })
}

/** The part files of every feature group of a local store, as its manifest names them. */
async function storeParts(store: string): Promise<string[]> {
  const out: string[] = []
  for (const fg of (await readdir(store).catch(() => [] as string[])).filter((n) => !n.startsWith('.'))) {
    const manifest = JSON.parse(await readFile(join(store, fg, 'manifest.json'), 'utf8')) as { parts?: { file: string }[] }
    // A store of the first format names no parts: they are part-NNN.csv.
    const files = manifest.parts?.map((p) => p.file) ?? (await readdir(join(store, fg))).filter((f) => /^part-\d+\.csv$/.test(f)).sort()
    out.push(...files.map((f) => join(store, fg, f)))
  }
  return out
}

interface Reference {
  text: string | null
  dims: string | null
  elements: (string | null)[] | null
}

t.test('round-trip matrix: every type family under every setting, value by value with psql', async (t) => {
  const { client, schema } = await testDb(t)
  const base = await baseDatabase()
  const S = schema
  await client.query(`CREATE TYPE ${S}.mood AS ENUM ('happy', 'sad', 'NULL');
    CREATE DOMAIN ${S}.posint AS int4 CHECK (VALUE > 0);
    CREATE TYPE ${S}.pair AS (a int, b text);
    CREATE TYPE ${S}."bool" AS ENUM ('yes', 'no');
    CREATE DOMAIN ${S}."int4" AS text;
    CREATE TYPE ${S}."json" AS (a int);
    CREATE TYPE ${S}."float8" AS ENUM ('x');
    CREATE TYPE ${S}."_status" AS ENUM ('on', 'off')`)
  const fams = families(S)
  for (const f of fams) {
    await client.query(`CREATE TABLE ${S}.f_${f.name} (n int PRIMARY KEY, v ${f.type})`)
    const rows = [...f.values.map((v, i) => `(${i + 1}, '${v.replace(/'/g, "''")}')`), `(${f.values.length + 1}, NULL)`]
    await client.query(`INSERT INTO ${S}.f_${f.name} VALUES ${rows.join(', ')}`)
  }
  const total = fams.reduce((n, f) => n + f.values.length + 1, 0)

  // psql's reference, one call: each family's rows as psql's CSV, under PostgreSQL's defaults.
  const script = fams.map((f) => `\\echo @@${f.name}\n\\copy (SELECT n, v${f.array ? `, array_dims(v), (SELECT json_agg(CASE num_nulls(x) WHEN 1 THEN NULL ELSE format('%s', x) END) FROM unnest(v) x)` : ''} FROM ${S}.f_${f.name} ORDER BY n) TO STDOUT WITH (FORMAT csv)`).join('\n')
  const out = execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', String(base.host ?? '127.0.0.1'), '-p', String(base.port ?? 5432), '-U', base.user ?? 'postgres', '-d', base.database ?? 'postgres'], {
    input: script, encoding: 'utf8', env: { ...process.env, PGOPTIONS: CANONICAL, ...(typeof base.password === 'string' ? { PGPASSWORD: base.password } : {}) },
  })
  const reference = new Map<string, Map<number, Reference>>()
  for (const block of out.split(/^@@/m).slice(1)) {
    const nl = block.indexOf('\n')
    const rows = new Map<number, Reference>()
    for (const rec of readCsv(block.slice(nl + 1))) {
      const get = (i: number): string | null => (rec[i] && (rec[i]!.text !== '' || rec[i]!.quoted) ? rec[i]!.text : null)
      const elements = get(3)
      rows.set(Number(rec[0]!.text), { text: get(1), dims: get(2), elements: elements === null ? null : (JSON.parse(elements) as (string | null)[]) })
    }
    reference.set(block.slice(0, nl), rows)
  }
  t.equal(reference.size, fams.length, 'psql gave every family')

  const suite = join(await mkdtemp(join(tmpdir(), 'etl-matrix-')), 'suite.json')
  await writeFile(suite, JSON.stringify({ expectation_suite_name: 'matrix', expectations: [{ expectation_type: 'expect_column_to_exist', kwargs: { column: 'n' } }] }))
  t.teardown(() => rm(join(suite, '..'), { recursive: true, force: true }))
  /** The source query over some families' tables, joined on n. */
  const queryOf = (group: readonly Family[]) =>
    `SELECT n, ${group.map((f) => `f_${f.name}.v AS ${f.name}`).join(', ')} FROM ${group.map((f, i) => (i === 0 ? `${S}.f_${f.name}` : `FULL JOIN ${S}.f_${f.name} USING (n)`)).join(' ')} ORDER BY n`
  // One run per setting over all the tables; MATRIX_PER_FAMILY=1 makes one run per family and setting (slow: for
  // code under which one family's failure would fail the whole run).
  const groups = process.env['MATRIX_PER_FAMILY'] ? fams.map((f) => [f]) : [fams]

  const wrong: string[] = []
  const cases = new Set<string>()
  const wrongCases = new Set<string>()
  for (const setting of settings) {
    const role = `etl_m_${randomBytes(4).toString('hex')}`
    await client.query(`CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA ${S} TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA ${S} TO ${role}`)
    t.teardown(async () => {
      const c = await connect(base)
      await c.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => {})
      await c.end()
    })
    for (const [k, v] of Object.entries(setting.role ?? {})) await client.query(`ALTER ROLE ${role} SET ${k} = '${v}'`)
    for (const [k, v] of Object.entries(setting.inDatabase ?? {})) await client.query(`ALTER ROLE ${role} IN DATABASE ${base.database ?? 'postgres'} SET ${k} = '${v}'`)
    const url = `postgres://${role}@${base.host ?? '127.0.0.1'}:${base.port ?? 5432}/${base.database ?? 'postgres'}${setting.urlOptions ? `?options=${encodeURIComponent(setting.urlOptions)}` : ''}`
    for (const group of groups) {
      const query = queryOf(group)
      const dir = await mkdtemp(join(tmpdir(), 'etl-matrix-run-'))
      let stderr = ''
      const code = await main(['run', '--query', query, '--data-dir', dir, '--suite', suite], {
        cwd: dir,
        env: { DATABASE_URL: url, PATH: process.env['PATH'] ?? '' },
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
        stderr: new Writable({ write: (c: Buffer, _e, cb) => ((stderr += String(c)), cb()) }),
      })
      if (code !== 0) wrong.push(`run | ${group.length > 1 ? 'all' : group[0]!.name} x ${setting.name} | exit ${code}: ${stderr.split('\n')[0]}`)

      // The cursor path (pgSource via cursor, keeping its lines) gives the same lines.
      const cursorLines: string[] = []
      // MATRIX_NO_CURSOR=1 skips it (for code whose cursor path throws out of pg's socket handler).
      if (!process.env['MATRIX_NO_CURSOR']) try {
        for await (const b of pgSource(url, { query }, { via: 'cursor', keepLines: true, signal: AbortSignal.timeout(5_000) }) as AsyncIterable<Batch>)
          cursorLines.push(...(cachedLines(b.rows) ?? []))
      } catch (err) {
        wrong.push(`cursor | ${group.length > 1 ? 'all' : group[0]!.name} x ${setting.name} | ${(err as Error).message.split('\n')[0]}`)
      }
      const header = ['n', ...group.map((f) => f.name)].join(',')
      const stages: [string, Field[][]][] = []
      const csvOf = async (p: string) => readCsv(await readFile(p, 'utf8').catch(() => ''))
      stages.push(['extracted.csv', await csvOf(join(dir, 'extracted.csv'))])
      stages.push(['transformed.csv', await csvOf(join(dir, 'transformed.csv'))])
      const store = join(dir, 'feature_store')
      const parts: Field[][] = []
      for (const file of await storeParts(store)) {
        const recs = await csvOf(file)
        parts.push(...(parts.length ? recs.slice(1) : recs))
      }
      stages.push(['store parts', parts])
      if (!process.env['MATRIX_NO_CURSOR']) stages.push(['cursor lines', cursorLines.length ? readCsv(header + '\n' + cursorLines.join('\n') + '\n') : []])
      await rm(dir, { recursive: true, force: true })

      for (const [stage, records] of stages) {
        const head = records[0]?.map((f) => f.text) ?? []
        const byN = new Map<number, Field[]>()
        for (const rec of records.slice(1)) byN.set(Number(rec[head.indexOf('n')]?.text), rec)
        for (const f of group) {
          const col = head.indexOf(f.name)
          const key = `${f.name} x ${setting.name}`
          cases.add(key)
          for (const [n, ref] of reference.get(f.name) ?? []) {
            const ours = col < 0 ? undefined : byN.get(n)?.[col]
            const ok = f.array
            ? sameArray(f.kind, ours, ref)
            : ref.text !== null && f.asText?.includes(ref.text)
              ? ours !== undefined && ours.text === JSON.stringify(ref.text)
              : sameScalar(f.kind, ours, ref.text)
            if (!ok) {
              wrongCases.add(key)
              wrong.push(`${stage} | ${key} | n=${n} | psql ${JSON.stringify(ref.text)} | ours ${ours ? (ours.quoted ? JSON.stringify(ours.text) : ours.text || '(NULL)') : '(missing)'}`)
            }
          }
        }
      }
    }
  }
  t.comment(`matrix: ${fams.length} type families x ${settings.length} settings = ${cases.size} cases (${total} values per setting), each value checked in 4 stages`)
  t.comment(`wrong: ${wrongCases.size} cases, ${wrong.length} values`)
  if (process.env['MATRIX_REPORT']) await writeFile(process.env['MATRIX_REPORT'], [`cases ${cases.size} wrong ${wrongCases.size} values ${wrong.length}`, ...[...wrongCases].sort(), '', ...wrong].join('\n') + '\n')
  t.same(wrong, [], 'every value is what psql gives')
})

t.test('derived ids over jsonb keys a double cannot tell apart keep two rows two in the store', async (t) => {
  const { client, env } = await testDb(t)
  await client.query(`CREATE TABLE bigkeys (k jsonb, s jsonb)`)
  await client.query(`INSERT INTO bigkeys VALUES ('12345678901234567890123', '"123"'), ('12345678901234567890124', '123'), ('null', '"[1]"'), ('{"a": 1.0}', '[1]')`)
  const dir = await mkdtemp(join(tmpdir(), 'etl-bigkeys-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const suite = join(dir, 'suite.json')
  await writeFile(suite, JSON.stringify({ expectation_suite_name: 'k', expectations: [{ expectation_type: 'expect_column_to_exist', kwargs: { column: 'k' } }] }))
  let stderr = ''
  const code = await main(['run', '--table', 'bigkeys', '--data-dir', join(dir, 'data'), '--suite', suite, '--id', 'derived', '--key', 'k'], {
    cwd: dir, env: { ...env, PATH: process.env['PATH'] ?? '' },
    stdout: new Writable({ write: (_c, _e, cb) => cb() }),
    stderr: new Writable({ write: (c: Buffer, _e, cb) => ((stderr += String(c)), cb()) }),
  })
  t.equal(code, 0, 'etl run succeeds', { stderr })
  const store = join(dir, 'data', 'feature_store')
  const rows: string[] = []
  for (const f of await storeParts(store)) rows.push(...(await readFile(f, 'utf8')).trim().split('\n').slice(1).filter(Boolean))
  const kv = rows.map((r) => readCsv(r + '\n')[0]!.slice(0, 2).map((f) => f.text)).sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
  t.same(kv, [['12345678901234567890123', '"123"'], ['12345678901234567890124', '123'], ['null', '"[1]"'], ['{"a":1.0}', '[1]']].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    'four rows, numbers exact, a JSON null and JSON strings as JSON text')
  const ids = new Set(rows.map((r) => readCsv(r + '\n')[0]![2]!.text))
  t.equal(ids.size, 4, 'four different ids')
})
