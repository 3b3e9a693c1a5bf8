// Why a release (a build's signed manifest and its files) was refused. The UI turns the code into
// words for a person; the message says what was wrong for logs and tests (it holds no secrets:
// everything in a release is public).
export type ReleaseErrorCode =
  | 'malformed' // the manifest or signature file is not in the expected format
  | 'unsigned' // no signature at all
  | 'wrong-key' // signed, but not by the pinned release key
  | 'bad-signature' // claims the pinned key, but the signature does not verify
  | 'files-differ' // a served file is not the one the manifest names
  | 'older' // a genuine release, but older than the one installed (a rollback to old bugs)
  | 'unreachable' // could not fetch the release (offline): try again later, nothing to fear

export class ReleaseError extends Error {
  override readonly name = 'ReleaseError'
  constructor(readonly code: ReleaseErrorCode, message: string) {
    super(message)
  }
}
