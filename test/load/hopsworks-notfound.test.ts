/**
 * "Not found" is the server's own answer (404 with 270009 FEATURE_GROUP_NOT_FOUND, 270181 FEATURE_VIEW_NOT_FOUND,
 * HW RESTCodes.java); a proxy's bare 404 is an error, never "absent" (which would create the group again).
 */
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

t.test('a bare 404 on the feature group lookup is an error: nothing is created', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'getFeatureGroup', status: 404 })
  await t.rejects(hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast }), { code: 'ETL_HOPSWORKS', message: /HTTP 404/ })
  t.equal(emu.count('createFeatureGroup'), 0, 'no create after a 404 without the server\'s code')
  // the server's own 404 (270009) is "absent": the group is created
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  t.ok(sink.target.created)
  await sink.abort()
})

t.test('a bare 404 on the feature view lookup is a warning after the commit, not a second view', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'getFeatureView', status: 404 })
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, featureView: true })
  await pipeline(batches(prostateColumns, prostateRows(5)), sink.writable)
  const s = await sink.commit()
  t.match(s.warnings, [/^the feature view could not be made: .*HTTP 404/])
  t.equal(emu.count('createFeatureView'), 0)
  t.equal(emu.rows('prostate_group', 1).length, 5)
})
