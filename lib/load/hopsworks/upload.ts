/**
 * Uploads files to a Hopsworks folder with the flow.js chunk protocol of
 * `POST project/{pid}/dataset/upload/{path}` (multipart/form-data), as the
 * current Python client does (hopsworks-api python/hopsworks_common/core/
 * dataset_api.py: 10 MiB chunks, three chunks of a file at once, three files
 * at once).
 *
 * The server's rules (HW hopsworks-common/.../upload/UploadController.java):
 * chunk 1 checks that the file does not exist (else 400 / 110012) and leaves
 * an empty placeholder under the file's name; each chunk is kept in a staging
 * folder until the last one arrives, then they are merged into the file. So a
 * chunk sent again after its answer was lost may be told 110012: chunk 1
 * because of its own placeholder, any chunk once the file was merged. Such an
 * answer is never taken on trust: the server is asked whether it holds that
 * chunk (`GET` with the flow fields: 200 held, 204 not, UploadService.testMethod);
 * a 204 is accepted only when the file may be complete, and `checkUploaded`
 * compares every file's size with ours before the job is started.
 *
 * Refusals named for what they are (DatasetApi.DATASET_ERROR_CODE_*):
 * 110055 HopsFS is full (ETL_DISK_FULL), 110056 uploads not allowed by the
 * cluster's upload policy.
 */
import { EtlError, invalidOption } from '../../errors.ts'
import type { Project } from './api.ts'
import { callDetails, isHopsworksError, type HopsworksHttp } from './http.ts'

/** The Python client's DEFAULT_UPLOAD_FLOW_CHUNK_SIZE. */
export const DEFAULT_CHUNK_SIZE = 10 * 1024 * 1024
export const MAX_CHUNK_SIZE = DEFAULT_CHUNK_SIZE
/** The Python client's DEFAULT_UPLOAD_SIMULTANEOUS_CHUNKS. */
export const CHUNKS_IN_FLIGHT = 3
const UPLOAD_DISK_SPACE = 110055
const UPLOAD_NOT_ALLOWED = 110056

export function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < 1024 || size > MAX_CHUNK_SIZE) throw invalidOption('hopsworks.chunkSize', `an integer from 1024 to ${MAX_CHUNK_SIZE}`, size)
  return size
}

export interface UploadProgress {
  readonly file: string
  readonly bytes: number
}

/** An upload refusal named for what it is, or the error itself. */
function named(err: unknown, folder: string): unknown {
  const d = callDetails(err)
  if (d?.errorCode === UPLOAD_DISK_SPACE)
    return new EtlError('ETL_DISK_FULL', `Hopsworks refused the upload to ${folder}: its file system (HopsFS) is full or the project's storage quota is used up (${UPLOAD_DISK_SPACE}); ask the cluster's administrator to free space. Nothing was loaded.`, { cause: err, details: { ...d } })
  if (d?.errorCode === UPLOAD_NOT_ALLOWED)
    return new EtlError('ETL_HOPSWORKS', `Hopsworks refused the upload to ${folder}: uploading files is not allowed on this cluster for this user (its upload policy, ${UPLOAD_NOT_ALLOWED}); this is not a missing API-key scope: ask the cluster's administrator. Nothing was loaded.`, { cause: err, details: { ...d } })
  return err
}

/** Uploads `data` as `{folder}/{fileName}`. Resolves when the server has every chunk (see checkUploaded). */
export async function uploadFile(
  http: HopsworksHttp, project: Project, folder: string, fileName: string, data: Buffer,
  chunkSize = DEFAULT_CHUNK_SIZE, onChunk?: (p: UploadProgress) => void,
): Promise<void> {
  const size = data.length
  const total = Math.max(1, Math.ceil(size / chunkSize))
  const path = ['project', project.id, 'dataset', 'upload', folder]
  const base: Record<string, string | number> = {
    templateId: -1, flowChunkSize: chunkSize, flowTotalSize: size, flowIdentifier: `${size}_${fileName}`,
    flowFilename: fileName, flowRelativePath: fileName, flowTotalChunks: total,
  }
  let acknowledged = 0
  const send = async (n: number): Promise<void> => {
    const chunk = data.subarray((n - 1) * chunkSize, Math.min(size, n * chunkSize))
    const fields = { ...base, flowChunkNumber: n, flowCurrentChunkSize: chunk.length }
    const form = new FormData()
    for (const [k, v] of Object.entries(fields)) form.append(k, String(v))
    form.append('file', new Blob([chunk]), fileName)
    try {
      await http.call({ method: 'POST', path, body: form, retry: true })
    } catch (err) {
      const repeated = (callDetails(err)?.attempts ?? 1) > 1
      if (!(repeated && isHopsworksError(err, [400], [110012]))) throw named(err, folder)
      // A lost answer: ask the server whether it holds this chunk.
      const probe = await http.call({ method: 'GET', path, searchParams: fields, retry: true }, (s) => s === 200 || s === 204)
      const mayBeComplete = acknowledged === total - 1
      if (probe.status === 204 && !mayBeComplete)
        throw new EtlError('ETL_HOPSWORKS', `the upload of ${folder}/${fileName} went wrong: chunk ${n} of ${total} was answered "already exists" (110012) on a repeat, but the server does not hold it and the file cannot be complete yet. Nothing was loaded; load again.`, { cause: err, details: { file: fileName, chunk: n, total } })
    }
    acknowledged++
    onChunk?.({ file: fileName, bytes: chunk.length })
  }
  // Chunk 1 first: it makes the placeholder, so its repeat can be told apart from the others.
  await send(1)
  let next = 2
  const worker = async (): Promise<void> => {
    while (next <= total) await send(next++)
  }
  await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, total - 1) }, worker))
}

/**
 * Lists `folder` (`GET project/{pid}/dataset/{path}?action=listing&expand=inodes`,
 * as dataset_api.py `_list_dataset_path`; each item's `attributes` has `name` and
 * `size`, InodeAttributeDTO) and checks that every file we sent is there with
 * our size. Throws ETL_HOPSWORKS (nothing was started) otherwise.
 */
export async function checkUploaded(http: HopsworksHttp, project: Project, folder: string, files: ReadonlyMap<string, number>): Promise<void> {
  const have = new Map<string, number>()
  for (let offset = 0; ; ) {
    const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'dataset', folder], searchParams: { action: 'listing', offset, limit: 1000, sort_by: 'ID:asc', expand: 'inodes' }, retry: true })
    const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {}
    const items = Array.isArray(o['items']) ? (o['items'] as Record<string, unknown>[]) : []
    for (const item of items) {
      const a = (item['attributes'] ?? {}) as Record<string, unknown>
      if (typeof a['name'] === 'string') have.set(a['name'], typeof a['size'] === 'number' ? a['size'] : -1)
    }
    offset += items.length
    const count = typeof o['count'] === 'number' ? o['count'] : offset
    if (items.length === 0 || offset >= count) break
  }
  const wrong: string[] = []
  for (const [name, size] of files) {
    const got = have.get(name)
    if (got !== size) wrong.push(`${name} (${got === undefined ? 'missing' : `${got} bytes`}, sent ${size})`)
  }
  if (wrong.length)
    throw new EtlError('ETL_HOPSWORKS', `the uploaded files in ${folder} do not match what was sent: ${wrong.slice(0, 5).join(', ')}${wrong.length > 5 ? ` and ${wrong.length - 5} more` : ''}. The ingestion job was not started; nothing was loaded.`, { details: { folder, files: wrong } })
}
