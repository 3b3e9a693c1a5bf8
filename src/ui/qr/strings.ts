// The QR components' words, in the UI's current language (src/ui/i18n).
import { t } from '../i18n'

export const qrStrings = () => ({
  codeLabel: t('qr.codeLabel'),
  scannerLabel: t('qr.scannerLabel'),
  cameraStarting: t('qr.cameraStarting'),
  cameraDenied: t('qr.cameraDenied'),
  cameraMissing: t('qr.cameraMissing'),
  cameraBusy: t('qr.cameraBusy'),
  cameraUnsupported: t('qr.cameraUnsupported'),
  cameraStopped: t('qr.cameraStopped'),
  cameraFailed: t('qr.cameraFailed'),
  decoderFailed: t('qr.decoderFailed'),
})

export type QrScannerMessages = Pick<
  ReturnType<typeof qrStrings>,
  'cameraDenied' | 'cameraMissing' | 'cameraBusy' | 'cameraUnsupported' | 'cameraStopped' | 'cameraFailed' | 'decoderFailed'
>
