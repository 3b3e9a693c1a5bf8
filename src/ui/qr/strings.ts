// User-visible strings of the QR components (English). Kept apart from src/ui/strings.ts so the
// two can be merged later; components take overrides through their props.
export const qrStrings = {
  /** Default accessible name of a shown code. */
  codeLabel: 'QR code',
  /** Default accessible name of the camera view. */
  scannerLabel: 'Camera view for scanning a QR code',
  cameraStarting: 'Starting the camera…',
  cameraDenied: 'Blossom may not use the camera. Allow camera access for this site in the browser settings, then try again.',
  cameraMissing: 'No camera was found on this device.',
  cameraBusy: 'The camera could not start: another app may be using it. Close that app, then try again.',
  cameraUnsupported: 'This browser cannot use the camera here. Camera access needs a current browser and a secure (https) address.',
  cameraStopped: 'The camera stopped. Try again.',
  cameraFailed: 'The camera could not start.',
  decoderFailed: 'The QR code reader could not be loaded. Reload Blossom while online once, then try again.',
} as const

export type QrScannerMessages = Pick<
  typeof qrStrings,
  'cameraDenied' | 'cameraMissing' | 'cameraBusy' | 'cameraUnsupported' | 'cameraStopped' | 'cameraFailed' | 'decoderFailed'
>
