// The signaling server alone in its own process, for bench/crowd.ts: prints its port, then serves
// until killed. Its limits are raised to hold the crowd (the bench measures time, not limits). With
// BLOSSOM_REDIS_URL it is one instance of a cluster (bench/tier.ts).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSignalingServer } from '../src/server/signaling'

const http = createServer((_req, res) => res.writeHead(404).end())
const redis = process.env['BLOSSOM_REDIS_URL']
createSignalingServer({ server: http, maxConnections: 4096, maxPeersPerTopic: 4096, messageBurst: 5000, messagesPerSecond: 1000, ...(redis ? { cluster: { url: redis } } : {}) })
http.listen(0, '127.0.0.1', () => console.log(`port ${(http.address() as AddressInfo).port}`))
