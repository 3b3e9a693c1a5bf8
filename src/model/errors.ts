export type ModelErrorCode = 'corrupt-record' | 'bad-message' | 'not-core' | 'unknown-action' | 'not-participant' | 'bad-quorum' | 'too-many-vouches'

/** A model-level failure, with a message for a person. */
export class ModelError extends Error {
  override readonly name = 'ModelError'
  constructor(readonly code: ModelErrorCode, message: string) {
    super(message)
  }
}
