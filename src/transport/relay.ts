// Frames relayed through the signaling server beside the WebRTC mesh: a frame this
// phone writes reaches every phone subscribed to the room in one server hop, even
// where WebRTC cannot connect. Sealed under the room's relay key, so the server
// sees no frame header (no author keys, no counters).
import { MAX_FRAME_BYTES, type SecureDoc, type SignedFrame } from '../doc'
import type { RoomKeys } from './rooms'
import { SealedTopic, type TopicStats } from './sealed-topic'
import type { SignalingSocket } from './signaling'

export class FrameRelay {
  private readonly topic: SealedTopic
  private readonly onFrame = (frame: SignedFrame, local: boolean): void => {
    if (local) this.topic.send(frame.bytes)
  }

  constructor(
    private readonly doc: SecureDoc,
    keys: RoomKeys,
  ) {
    this.topic = new SealedTopic(keys.relayTopic, keys.relayKey, MAX_FRAME_BYTES, (frame) => doc.receive(frame))
    doc.on('frame', this.onFrame)
  }

  get stats(): TopicStats {
    return this.topic.stats
  }

  attach(socket: SignalingSocket): void {
    this.topic.attach(socket)
  }

  stop(): void {
    this.doc.off('frame', this.onFrame)
    this.topic.close()
  }
}
