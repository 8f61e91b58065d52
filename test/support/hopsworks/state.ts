/**
 * What the emulated Hopsworks holds: projects, feature stores, feature groups
 * (with their rows), jobs and executions, the files of HopsFS, feature views,
 * expectation suites and validation reports.
 */

export interface Feature {
  readonly name: string
  readonly type: string
  readonly primary: boolean
}

export interface FeatureGroupState {
  readonly id: number
  readonly featurestoreId: number
  readonly name: string
  readonly version: number
  readonly timeTravelFormat: string
  readonly features: readonly Feature[]
  /** The stored DTO (what GET returns). */
  readonly dto: Record<string, unknown>
  /** Rows by primary key (HUDI upserts) or in arrival order (NONE appends): the offline table. */
  readonly rows: Map<string, Record<string, unknown>>
  appended: number
  /** A stream feature group: rows written to its Kafka topic, not yet in the offline table (until materialized). */
  /** HUDI commits, oldest first (FeatureGroupCommit rows: what `GET …/commits` lists). */
  readonly commits?: CommitState[]
  readonly stream?: boolean
  readonly kafka?: Record<string, unknown>[][]
}

export interface CommitState {
  readonly commitID: number
  readonly commitTime: number
  readonly commitDateString: string
  readonly rowsInserted: number
  readonly rowsUpdated: number
  readonly rowsDeleted: number
  readonly archived: boolean
}

export interface ExecutionState {
  readonly id: number
  readonly submissionTime: string
  state: string
  finalStatus: string
  progress: number
  polls: number
  /** Set by fault injection: how this execution is to end. */
  planned?: { readonly state: string; readonly finalStatus: string } | undefined
  /** Why the emulated job failed (for test assertions). */
  error?: string
  /** The job's data path when this execution started (a job made again in the same second gets a new one). */
  readonly dataPath?: string
  /** The files the ingestion read (for test assertions; the folder may be deleted afterwards). */
  filesRead?: number
}

export interface JobState {
  readonly id: number
  readonly name: string
  readonly projectId: number
  readonly featureGroupId: number
  readonly dataPath: string
  readonly conf: Record<string, unknown>
  /** 'materialization': the offline materialization job of a stream group (moves its Kafka rows to the offline table). */
  readonly kind?: 'ingestion' | 'materialization'
  readonly creationTime: string
  readonly executions: ExecutionState[]
}

export interface ProjectState {
  readonly id: number
  readonly name: string
  /** Users allowed in; undefined = everyone. */
  readonly members?: readonly string[]
}

export interface UploadState {
  /** Chunk 1 arrived: the file's name holds an empty placeholder until the chunks are merged. */
  placeholder: boolean
  readonly totalChunks: number
  readonly totalSize: number
  readonly chunks: Map<number, Buffer>
}

export interface ReportState {
  readonly id: number
  readonly validationTime: string
  readonly body: Record<string, unknown>
}

export class EmulatorState {
  readonly projects: ProjectState[] = []
  readonly featureGroups: FeatureGroupState[] = []
  readonly jobs = new Map<string, JobState>()
  /** Jobs deleted (with their executions), kept for test assertions only: the server forgets them. */
  readonly deletedJobs: JobState[] = []
  /** HopsFS: directories and complete files, by absolute path. */
  readonly dirs = new Set<string>()
  readonly files = new Map<string, Buffer>()
  /** Uploads in progress, by `<dir>/<flowFilename>`. */
  readonly uploads = new Map<string, UploadState>()
  readonly featureViews = new Map<string, Record<string, unknown>>()
  readonly suites = new Map<number, Record<string, unknown>>()
  readonly reports = new Map<number, ReportState[]>()
  /** Every expectation id the server ever gave (ExpectationFacade.findById looks them up globally). */
  readonly expectationIds = new Set<number>()
  /** Cluster variables (`GET variables/{id}`), e.g. upload_policy: enabled | admins_only | disabled. */
  readonly variables = new Map<string, string>()
  /** Users with the cluster role HOPS_ADMIN. */
  readonly admins = new Set<string>()
  /** HopsFS is full: every chunk is refused (110055). */
  diskFull = false
  /** The emulated release: '3.0' stores suites with PUT (no POST), later ones POST then PUT/{id}. */
  serverVersion: '3.0' | '3.1+' = '3.1+'
  #nextId = 1000

  nextId(): number {
    return ++this.#nextId
  }

  project(id: number): ProjectState | undefined {
    return this.projects.find((p) => p.id === id)
  }

  featureStoreId(p: ProjectState): number {
    return p.id * 10 + 1
  }

  featureStoreName(p: ProjectState): string {
    return `${p.name.toLowerCase()}_featurestore`
  }

  /** `/Projects/p/Ingestion/x` or `Ingestion/x` (relative to the project) -> absolute, normalised. */
  absolute(p: ProjectState, path: string): string {
    const clean = path.replace(/^hdfs:\/\/[^/]*/, '').replace(/\/+$/, '')
    return clean.startsWith('/') ? clean : `/Projects/${p.name}/${clean}`
  }

  /** Removes a file or a folder (with what is below it). False when nothing was there. */
  remove(path: string): boolean {
    let found = this.files.delete(path) || this.dirs.delete(path)
    for (const f of [...this.files.keys()]) if (f.startsWith(path + '/')) found = this.files.delete(f) || found
    for (const d of [...this.dirs]) if (d.startsWith(path + '/')) found = this.dirs.delete(d) || found
    for (const u of [...this.uploads.keys()]) if (u.startsWith(path + '/')) this.uploads.delete(u)
    return found
  }

  /** The complete files directly inside a folder, by name order. */
  filesIn(dir: string): [string, Buffer][] {
    return [...this.files.entries()].filter(([f]) => f.startsWith(dir + '/') && !f.slice(dir.length + 1).includes('/')).sort(([a], [b]) => a.localeCompare(b))
  }
}
