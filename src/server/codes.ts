// WebSocket close codes the signaling server uses. Standard codes where one fits;
// 4000-4999 (private use) for Blossom's own refusals, so a client can tell them apart.
export const CloseCode = {
  /** Server shutting down. */
  goingAway: 1001,
  /** Binary frame: the protocol is JSON text only. */
  unsupportedData: 1003,
  /** Not sent by us: recorded when the heartbeat terminates a peer that stopped answering pings. */
  abnormal: 1006,
  /** Not JSON, not an object, or a field missing / of the wrong type (ws also uses it for bad UTF-8). */
  invalidPayload: 1007,
  /** Message over maxPayloadBytes (sent by ws itself). */
  messageTooBig: 1009,
  /** Server-wide cap reached (topics or subscriptions); a client may retry later. */
  tryAgainLater: 1013,
  /** `type` is a string but not one this server speaks. */
  unknownType: 4000,
  /** A topic or peer id is empty or longer than its cap. */
  fieldLength: 4001,
  /** The connection would hold more than maxTopicsPerConnection topics. */
  tooManyTopics: 4002,
  /** A topic already has maxPeersPerTopic subscribers. */
  topicFull: 4003,
  /** Message or byte rate over the connection's token buckets. */
  rateLimited: 4004,
  /** No subscription held for subscribeTimeoutMs. */
  idle: 4005,
} as const

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode]

// ws reports its own protocol failures as errors with these codes and closes with the
// matching status; we only need the number for the counters.
const wsErrorCloseCodes: Readonly<Record<string, number>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1009,
}

export function closeCodeOfWsError(error: Error): number {
  const code = (error as Error & { code?: unknown }).code
  if (typeof code === 'string' && Object.hasOwn(wsErrorCloseCodes, code)) {
    return wsErrorCloseCodes[code] ?? 1002
  }
  return 1002 // every other ws receiver error is a protocol error
}
