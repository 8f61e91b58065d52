import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parseConfig } from '../../lib/config/config.ts'
import { configCheckSource, GENERATED } from '../../scripts/config-check.ts'

t.test('the generated config check is the schema as ajv compiles it now (run scripts/config-check.ts after changing the schema)', async (t) => {
  t.equal(await readFile(GENERATED, 'utf8'), configCheckSource())
})

t.test('the generated check rejects and accepts as the schema says', async (t) => {
  t.same(parseConfig({ table: 'x', batchSize: 10, missing: { default: { fill: 0 }, columns: { age: 'drop' } }, featureView: true }), { table: 'x', batchSize: 10, missing: { default: { fill: 0 }, columns: { age: 'drop' } }, featureView: true })
  t.throws(() => parseConfig({ batchSize: 0 }), { code: 'ETL_CONFIG', message: /\/batchSize: must be >= 1/ })
  t.throws(() => parseConfig({ table: '' }), { code: 'ETL_CONFIG', message: /\/table: must NOT have fewer than 1 characters/ })
  t.throws(() => parseConfig({ featureGroup: { name: 'Bad-Name' } }), { code: 'ETL_CONFIG', message: /\/featureGroup\/name: must match pattern/ })
  t.throws(() => parseConfig({ featureGroup: { description: '€'.repeat(257) } }), { code: 'ETL_CONFIG', message: /\/featureGroup\/description: must NOT have more than 256 characters/ })
  t.same(parseConfig({ featureGroup: { description: '😀'.repeat(256) } }), { featureGroup: { description: '😀'.repeat(256) } }, 'lengths count code points, as JSON Schema says')
  t.throws(() => parseConfig({ notifications: [{}] }), { code: 'ETL_CONFIG', message: /must have required property 'url'/ })
  t.throws(() => parseConfig({ nope: 1 }), { code: 'ETL_CONFIG', message: /unknown setting "nope"/ })
  t.throws(() => parseConfig({ onInvalid: 'x' }), { code: 'ETL_CONFIG', message: /\/onInvalid: must be one of "abort", "warn"/ })
})
