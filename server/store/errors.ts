// Errors callers are expected to tell apart (by class or by `code`): the HTTP API turns the first two into
// 4xx answers, the bridge restarts a source on a conflict, and an operator must act on a schema mismatch.

export class StoreInputError extends Error {
  readonly code = 'STORE_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'StoreInputError';
  }
}

export class FindingNotFoundError extends Error {
  readonly code = 'FINDING_NOT_FOUND';
  constructor(readonly key: string) {
    super('no finding with this key');
    this.name = 'FindingNotFoundError';
  }
}

/** Another writer moved the source's resume point since this batch was read: re-read from the stored one. */
export class ResumeConflictError extends Error {
  readonly code = 'RESUME_CONFLICT';
  constructor(
    readonly sourceId: string,
    readonly expected: string | null,
    readonly actual: string | null,
  ) {
    super('the resume point of this source moved since the batch was read');
    this.name = 'ResumeConflictError';
  }
}

export class SchemaTooNewError extends Error {
  readonly code = 'SCHEMA_TOO_NEW';
  constructor(
    readonly databaseVersion: number,
    readonly codeVersion: number,
  ) {
    super(
      `the store's database has schema version ${databaseVersion}, but this bridge only knows versions up to ${codeVersion}: ` +
        'it was written by a newer release. Run that release (or newer), or restore a backup taken before the upgrade.',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** The database file fails SQLite's integrity check, or is not a database at all: the bridge refuses it. */
export class StoreDamagedError extends Error {
  readonly code = 'STORE_DAMAGED';
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(
      `the store ${path} is damaged (${detail.replace(/\s+/g, ' ').trim()}). Stop the bridge, move ${path} and its -wal and -shm files aside ` +
        '(keep them for a later look), and start again: the bridge creates a fresh store and reads its log sources ' +
        'from their start. Or put back a copy taken while the bridge was stopped.',
    );
    this.name = 'StoreDamagedError';
  }
}

/**
 * An ignore or un-ignore made on an older view of a finding than its latest such decision (a replayed alert
 * button, say): refused, so that an older decision never overrides a newer one. Says which decision is newer.
 */
export class StaleDecisionError extends Error {
  readonly code = 'STALE_DECISION';
  constructor(
    readonly key: string,
    readonly latest: 'ignore' | 'unignore',
    readonly by: string,
    readonly at: string,
  ) {
    super(`a newer decision was made about this finding: ${latest === 'ignore' ? 'ignored' : 'un-ignored'}${by ? ` by ${by}` : ''} at ${at}`);
    this.name = 'StaleDecisionError';
  }
}

/**
 * A store error in words an operator acts on. A full disk (SQLite's SQLITE_FULL, PostgreSQL's 53100) says so
 * and what to do; anything else is the driver's own message.
 */
export function storeErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as {code?: unknown} | null)?.code;
  if (code === 'SQLITE_FULL' || code === '53100') {
    return `the disk under the store is full (${message}): free space under the data folder or on the database's volume; nothing read is lost`;
  }
  return message;
}
