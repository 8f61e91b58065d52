/**
 * Emulated routes: the flow.js chunked upload (API.md 6a step 2, HW
 * UploadService / FlowInfo / UploadController) and the dataset delete
 * (`DELETE project/{pid}/dataset/{path}`, HA dataset_api.py `remove`).
 *
 * Chunk 1 and the placeholder (HW hopsworks-common/.../upload/UploadController.java checkPermission /
 * checkStagingDir): chunk 1 is refused with 400 / 110012 when `{path}/{flowFilename}` exists, else it leaves
 * an empty placeholder file there (so chunk 1 sent again is always 110012); any other chunk is refused so
 * when the file exists and no upload of it is in progress (it was merged). The upload policy
 * (`upload_policy` variable: disabled, or admins_only for a non-admin) refuses every chunk with 403 / 110056,
 * a full HopsFS with 110055 (codes as hopsworks-api python/hopsworks_common/core/dataset_api.py knows them).
 * Listing (`GET dataset/{path}?action=listing`, DatasetResource.get, scope DATASET_VIEW): `{count, items:
 * [{attributes: {name, path, size, dir}}]}` (InodeAttributeDTO), a placeholder with size 0.
 *
 * Upload rules: chunk number >= 1 (flow.js counts from 1; API.md: >= 0) and
 * total size >= 0, identifier, filename and relative path non-empty, at most
 * 10000 chunks, else 400 / 110042; `{path}/{flowFilename}` already there:
 * 400 / 110012; the dataset (first folder under the project) missing:
 * 400 / 110011. Each chunk: 200 "Uploading..."; the chunk that completes the
 * file: "Successfuly uploaded file to <path>". `GET` with the flow fields as
 * query: 200 when that chunk is held, 204 otherwise (chunks are dropped once
 * the file is assembled). [I] a chunk whose size differs from
 * flowCurrentChunkSize is a 400 / 110042, and so is a missing target folder.
 */
import type { Route } from './featurestore-routes.ts'
import type { EmulatorState, ProjectState } from './state.ts'
import { fail, formBody, ok, type Req } from './wire.ts'

function flowInfo(get: (k: string) => string | null): { number: number; total: number; size: number; current: number; id: string; filename: string; relative: string } {
  const n = (k: string): number => {
    const v = get(k)
    return v !== null && /^-?\d+$/.test(v) ? Number(v) : NaN
  }
  const info = {
    number: n('flowChunkNumber'), total: n('flowTotalChunks'), size: n('flowTotalSize'), current: n('flowCurrentChunkSize'),
    id: get('flowIdentifier') ?? '', filename: get('flowFilename') ?? '', relative: get('flowRelativePath') ?? '',
  }
  if (!(info.number >= 1) || !(info.size >= 0) || !info.id || !info.filename || !info.relative) fail('resumableInfoInvalid', 'flowChunkNumber, flowTotalSize, flowIdentifier, flowFilename and flowRelativePath are required')
  if (!(info.total >= 1) || info.total > 10000 || info.number > info.total) fail('resumableInfoInvalid', `flowTotalChunks ${info.total}`)
  return info
}

function target(s: EmulatorState, p: ProjectState, rest: readonly string[]): string {
  const dir = s.absolute(p, rest.join('/'))
  const dataset = dir.split('/').slice(0, 4).join('/') // /Projects/<p>/<dataset>
  if (!dir.startsWith(`/Projects/${p.name}/`) || !s.dirs.has(dataset)) fail('datasetNotFound', dir)
  if (!s.dirs.has(dir)) fail('resumableInfoInvalid', `no folder ${dir}`)
  return dir
}

export function matchDatasets(s: EmulatorState, req: Req): Route | undefined {
  const [a, b, c, d, ...rest] = req.segs
  if (a !== 'project' || b === undefined || !/^\d+$/.test(b) || c !== 'dataset' || d === undefined) return undefined
  const pid = Number(b)
  const project = (): ProjectState => s.project(pid) ?? fail('projectNotFound')
  if (d === 'upload' && rest.length && req.method === 'POST')
    return {
      name: 'upload', scope: 'DATASET_CREATE', projectId: pid,
      run: async (r, user) => {
        const dir = target(s, project(), rest)
        const form = await formBody(r)
        const field = (k: string): string | null => {
          const v = form.get(k)
          return typeof v === 'string' ? v : null
        }
        const info = flowInfo(field)
        const file = form.get('file')
        if (!(file instanceof Blob)) fail('resumableInfoInvalid', 'no file part')
        const policy = s.variables.get('upload_policy')
        if (policy === 'disabled' || (policy === 'admins_only' && !s.admins.has(user))) fail('uploadNotAllowed')
        if (s.diskFull) fail('uploadDiskSpace')
        const path = `${dir}/${info.filename}`
        const inProgress = s.uploads.get(path)
        if (info.number === 1 ? s.files.has(path) : s.files.has(path) && !inProgress) fail('destinationExists', path)
        const chunk = Buffer.from(await file.arrayBuffer())
        if (!Number.isNaN(info.current) && chunk.length !== info.current) fail('resumableInfoInvalid', `chunk ${info.number} has ${chunk.length} bytes, flowCurrentChunkSize says ${info.current}`)
        const up = inProgress ?? { placeholder: false, totalChunks: info.total, totalSize: info.size, chunks: new Map<number, Buffer>() }
        if (up.totalChunks !== info.total || up.totalSize !== info.size) fail('resumableInfoInvalid', 'flowTotalChunks / flowTotalSize changed during the upload')
        if (info.number === 1) {
          up.placeholder = true
          s.files.set(path, Buffer.alloc(0))
        }
        up.chunks.set(info.number, chunk)
        s.uploads.set(path, up)
        if (up.chunks.size < up.totalChunks) return ok({ successMessage: 'Uploading...' })
        const whole = Buffer.concat([...up.chunks.entries()].sort(([x], [y]) => x - y).map(([, v]) => v))
        s.uploads.delete(path)
        if (whole.length !== up.totalSize) fail('resumableInfoInvalid', `assembled ${whole.length} bytes, flowTotalSize says ${up.totalSize}`)
        s.files.set(path, whole)
        return ok({ successMessage: `Successfuly uploaded file to ${dir}` })
      },
    }
  if (d === 'upload' && rest.length && req.method === 'GET')
    return {
      name: 'uploadProbe', scope: 'DATASET_CREATE', projectId: pid,
      run: (r) => {
        const dir = target(s, project(), rest)
        const info = flowInfo((k) => r.query.get(k))
        return { status: s.uploads.get(`${dir}/${info.filename}`)?.chunks.has(info.number) ? 200 : 204 }
      },
    }
  if (req.method === 'GET' && d !== 'upload' && req.query.get('action') === 'listing')
    return {
      name: 'listDataset', scope: 'DATASET_VIEW', projectId: pid,
      run: (r) => {
        const dir = s.absolute(project(), [d, ...rest].join('/'))
        if (!s.dirs.has(dir)) fail('pathNotFound', dir)
        const files = s.filesIn(dir).map(([f, b]) => ({ attributes: { name: f.split('/').pop(), path: f, size: b.length, dir: false } }))
        const offset = Number(r.query.get('offset') ?? 0)
        const limit = Number(r.query.get('limit') ?? files.length)
        return ok({ count: files.length, items: files.slice(offset, offset + limit) })
      },
    }
  if (req.method === 'DELETE')
    return {
      name: 'deleteDataset', scope: 'DATASET_DELETE', projectId: pid,
      run: () => {
        const path = s.absolute(project(), [d, ...rest].join('/'))
        if (!s.remove(path)) fail('pathNotFound', path)
        return { status: 204 }
      },
    }
  return undefined
}
