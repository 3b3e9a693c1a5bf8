// The secure document layer: plaintext only in memory, ciphertext frames everywhere else.
export { SecureDoc, DocError, MAX_PENDING_FRAMES, MAX_PENDING_PER_AUTHOR, MAX_PENDING_BYTES, type Verdict, type DocStats, type ClosureRequest, type SecureDocOptions, type DocErrorCode } from './secure-doc'
export { FrameKind, parseFrame, sealFrame, openFrame, frameIdOf, MAX_FRAME_BYTES, type SignedFrame, type FrameHeader, type FrameFault } from './frame'
export { Roster, type RosterBase } from './roster'
export { newDocId, docIdFromSecret } from './ids'
export { settleEpoch, type Settlement, type Claim } from './epochs'
export { keepCompact, COMPACTION, type CompactionPolicy } from './compaction'
