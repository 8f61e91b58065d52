/**
 * Uploads one file to a Hopsworks folder with the flow.js chunk protocol of
 * `POST project/{pid}/dataset/upload/{path}` (multipart/form-data; API.md
 * section 6a): chunks sent one after the other, numbered from 1, each at
 * most `chunkSize` bytes (at most 1 MiB, as the Python client sends).
 *
 * Each chunk is retried on transient failures (HopsworksHttp). A chunk sent
 * again replaces the copy the server may already hold; the last chunk is the
 * one that completes the file, so when its answer was lost and the repeat is
 * told the file already exists (400 / 110012), the file is complete: that
 * answer counts as success (only on a repeat; on a first attempt it is an error).
 */
import { invalidOption } from '../../errors.ts'
import type { Project } from './api.ts'
import { callDetails, isHopsworksError, type HopsworksHttp } from './http.ts'

export const MAX_CHUNK_SIZE = 1024 * 1024

export function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < 1024 || size > MAX_CHUNK_SIZE) throw invalidOption('hopsworks.chunkSize', `an integer from 1024 to ${MAX_CHUNK_SIZE}`, size)
  return size
}

export interface UploadProgress {
  readonly file: string
  readonly bytes: number
}

/** Uploads `data` as `{folder}/{fileName}`. Resolves when the server has the whole file. */
export async function uploadFile(
  http: HopsworksHttp, project: Project, folder: string, fileName: string, data: Buffer,
  chunkSize = MAX_CHUNK_SIZE, onChunk?: (p: UploadProgress) => void,
): Promise<void> {
  const size = data.length
  const total = Math.max(1, Math.ceil(size / chunkSize))
  for (let n = 1; n <= total; n++) {
    const chunk = data.subarray((n - 1) * chunkSize, Math.min(size, n * chunkSize))
    const form = new FormData()
    const fields: Record<string, string | number> = {
      templateId: -1,
      flowChunkNumber: n,
      flowChunkSize: chunkSize,
      flowCurrentChunkSize: chunk.length,
      flowTotalSize: size,
      flowIdentifier: `${size}_${fileName}`,
      flowFilename: fileName,
      flowRelativePath: fileName,
      flowTotalChunks: total,
    }
    for (const [k, v] of Object.entries(fields)) form.append(k, String(v))
    form.append('file', new Blob([chunk]), fileName)
    try {
      await http.call({ method: 'POST', path: ['project', project.id, 'dataset', 'upload', folder], body: form, retry: true })
    } catch (err) {
      const repeatedLast = n === total && (callDetails(err)?.attempts ?? 1) > 1
      if (!(repeatedLast && isHopsworksError(err, [400], [110012]))) throw err
    }
    onChunk?.({ file: fileName, bytes: chunk.length })
  }
}
