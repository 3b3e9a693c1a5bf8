// Scans QR codes with the rear camera, entirely on the device: the browser's own BarcodeDetector
// where it reads QR codes (Android, macOS, ChromeOS), otherwise the small `qr` decoder, loaded on
// first use as a separate chunk (the service worker precaches it with the rest of the app, so it
// works offline). Frames never leave the page; nothing here uses the network.
import type { JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { qrStrings, type QrScannerMessages } from './strings'
import './qr.css'

/** Time between two decode attempts: fast enough to feel instant, light on a phone's battery. */
export const SCAN_INTERVAL_MS = 120
/** Frames are scaled down to at most this many pixels on their longer side before decoding. */
const MAX_FRAME_SIDE = 1280

export interface QrScannerProps {
  /** Called once for each distinct code seen while mounted. */
  onCode: (text: string) => void
  /** Called with a message for a person when the camera cannot be used (denied, missing, busy). */
  onError?: (message: string) => void
  /** Accessible name of the camera view. */
  label?: string
  /** Replaces any of the default messages (qrStrings). */
  messages?: Partial<QrScannerMessages>
}

type State = 'starting' | 'scanning' | 'error'
type DecoderKind = 'native' | 'library'
/** Reads one frame of the video: the code's text, or undefined when it shows none. */
type Decode = (video: HTMLVideoElement) => Promise<string | undefined>

/** The part of the Barcode Detection API used here (not yet in TypeScript's DOM types). */
interface NativeBarcodeDetector {
  detect(source: HTMLVideoElement): Promise<readonly { rawValue: string }[]>
}
interface NativeBarcodeDetectorClass {
  new (options: { formats: string[] }): NativeBarcodeDetector
  getSupportedFormats(): Promise<readonly string[]>
}

async function nativeDecoder(): Promise<Decode | undefined> {
  const Detector = (globalThis as { BarcodeDetector?: NativeBarcodeDetectorClass }).BarcodeDetector
  if (typeof Detector !== 'function') return undefined
  try {
    // Chromium on Linux and Windows has the class but no QR support behind it.
    if (!(await Detector.getSupportedFormats()).includes('qr_code')) return undefined
    const detector = new Detector({ formats: ['qr_code'] })
    return async (video) => (await detector.detect(video)).find((code) => code.rawValue !== '')?.rawValue
  } catch {
    return undefined
  }
}

async function libraryDecoder(): Promise<Decode> {
  const { default: decodeQR } = await import('qr/decode.js')
  const canvas = document.createElement('canvas')
  const context = canvas.getContext('2d', { willReadFrequently: true, alpha: false })
  if (!context) throw new Error('no 2d canvas')
  return async (video) => {
    const { videoWidth: w, videoHeight: h } = video
    if (w === 0 || h === 0) return undefined
    const scale = Math.min(1, MAX_FRAME_SIDE / Math.max(w, h))
    const width = Math.round(w * scale)
    const height = Math.round(h * scale)
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width
      canvas.height = height
    }
    context.drawImage(video, 0, 0, width, height)
    try {
      return decodeQR(context.getImageData(0, 0, width, height))
    } catch {
      return undefined // no code in this frame: try the next one
    }
  }
}

/** The native detector where it reads QR codes, else the library; a failing native one falls back. */
async function chooseDecoder(): Promise<{ kind: DecoderKind; decode: Decode }> {
  const native = await nativeDecoder()
  if (!native) return { kind: 'library', decode: await libraryDecoder() }
  let fallback: Promise<Decode> | undefined
  return {
    kind: 'native',
    decode: async (video) => {
      if (fallback) return (await fallback)(video)
      try {
        return await native(video)
      } catch {
        fallback = libraryDecoder()
        return (await fallback)(video)
      }
    },
  }
}

function cameraErrorMessage(error: unknown, messages: QrScannerMessages): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : ''
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return messages.cameraDenied
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return messages.cameraMissing
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return messages.cameraBusy
    case 'TypeError':
      return messages.cameraUnsupported
    default:
      return messages.cameraFailed
  }
}

function stopStream(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop()
}

export function QrScanner({ onCode, onError, label = qrStrings().scannerLabel, messages }: QrScannerProps): JSX.Element {
  const video = useRef<HTMLVideoElement>(null)
  const [state, setState] = useState<State>('starting')
  const [decoder, setDecoder] = useState<DecoderKind | undefined>(undefined)
  // The latest callbacks and messages, so that new props never restart the camera.
  const latest = useRef({ onCode, onError, messages: { ...qrStrings(), ...messages } })
  latest.current = { onCode, onError, messages: { ...qrStrings(), ...messages } }

  useEffect(() => {
    const element = video.current
    if (!element) return undefined
    let stopped = false
    let stream: MediaStream | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const seen = new Set<string>()

    const stop = (): void => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      stopStream(stream)
      stream = undefined
      element.srcObject = null
    }
    const fail = (message: string): void => {
      if (stopped) return
      stop()
      setState('error')
      latest.current.onError?.(message)
    }

    const start = async (): Promise<void> => {
      const media = navigator.mediaDevices as MediaDevices | undefined
      if (!media || typeof media.getUserMedia !== 'function') return fail(latest.current.messages.cameraUnsupported)
      // Load the decoder while the camera starts; a failure is reported only if the camera works.
      const decoding = chooseDecoder()
      decoding.catch(() => undefined)
      let opened: MediaStream
      try {
        opened = await media.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      } catch (error) {
        return fail(cameraErrorMessage(error, latest.current.messages))
      }
      if (stopped) return stopStream(opened) // unmounted while the camera was starting
      stream = opened
      for (const track of opened.getVideoTracks()) {
        track.addEventListener('ended', () => fail(latest.current.messages.cameraStopped))
      }
      element.muted = true
      element.srcObject = opened
      element.play().catch(() => undefined) // autoplay with muted/playsinline; frames flow regardless

      let decode: Decode
      try {
        const chosen = await decoding
        decode = chosen.decode
        if (stopped) return
        setDecoder(chosen.kind)
      } catch {
        return fail(latest.current.messages.decoderFailed)
      }
      setState('scanning')

      const tick = async (): Promise<void> => {
        timer = undefined
        if (stopped) return
        if (element.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && !document.hidden) {
          const text = await decode(element).catch(() => undefined)
          if (stopped) return
          if (text !== undefined && text !== '' && !seen.has(text)) {
            seen.add(text)
            latest.current.onCode(text)
          }
        }
        if (!stopped) timer = setTimeout(() => void tick(), SCAN_INTERVAL_MS)
      }
      void tick()
    }

    void start()
    return stop
  }, [])

  return (
    <div class="qr-scanner" role="group" aria-label={label} data-state={state} data-decoder={decoder}>
      <video ref={video} muted playsInline autoPlay disablePictureInPicture aria-hidden="true" />
      {state === 'starting' && <p role="status">{latest.current.messages.cameraStarting}</p>}
    </div>
  )
}
