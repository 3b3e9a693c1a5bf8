// The QR components' strings live with all the others in src/ui/strings.ts.
import { strings } from '../strings'

export const qrStrings = strings.qr


export type QrScannerMessages = Pick<
  typeof qrStrings,
  'cameraDenied' | 'cameraMissing' | 'cameraBusy' | 'cameraUnsupported' | 'cameraStopped' | 'cameraFailed' | 'decoderFailed'
>
