// A fake camera for the QR tests: a Y4M (YUV4MPEG2) video that shows a QR matrix large and
// centered on white. Chromium plays it as the camera with
//   --use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE
// (looping; every frame is the same picture).
import { writeFile } from 'node:fs/promises'

export interface QrVideoOptions {
  /** Frame size in pixels (even numbers, for 4:2:0). Default 640x480. */
  width?: number
  height?: number
  /** Number of frames in the file (it loops). Default 5. */
  frames?: number
  /** Frames per second. Default 30. */
  fps?: number
  /** Share of the shorter side the matrix fills. Default 0.9. */
  fill?: number
}

// BT.601 "studio" levels, which is what a camera's 4:2:0 frames use.
const Y_BLACK = 16
const Y_WHITE = 235
const CHROMA_NEUTRAL = 128

/** The Y4M file's bytes: `matrix` (rows of modules, true = dark) drawn in whole pixels per module. */
export function qrY4m(matrix: readonly (readonly boolean[])[], options: QrVideoOptions = {}): Buffer {
  const { width = 640, height = 480, frames = 5, fps = 30, fill = 0.9 } = options
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error('4:2:0 needs an even width and height')
  const n = matrix.length
  if (n === 0 || matrix.some((row) => row.length !== n)) throw new Error('the matrix must be square and not empty')
  const pixelsPerModule = Math.floor((Math.min(width, height) * fill) / n)
  if (pixelsPerModule < 2) throw new Error(`a ${n}x${n} matrix does not fit ${width}x${height} at 2 pixels per module`)
  const side = pixelsPerModule * n
  const left = Math.floor((width - side) / 2)
  const top = Math.floor((height - side) / 2)

  const luma = Buffer.alloc(width * height, Y_WHITE)
  for (let y = 0; y < side; y++) {
    const row = matrix[Math.floor(y / pixelsPerModule)]!
    const offset = (top + y) * width + left
    for (let x = 0; x < side; x++) {
      if (row[Math.floor(x / pixelsPerModule)]) luma[offset + x] = Y_BLACK
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, CHROMA_NEUTRAL) // U plane, then V plane
  const frame = Buffer.concat([Buffer.from('FRAME\n', 'latin1'), luma, chroma])

  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, 'latin1')
  return Buffer.concat([header, ...Array.from({ length: frames }, () => frame)])
}

/** Writes qrY4m(matrix, options) to `file`. */
export async function writeQrY4m(file: string, matrix: readonly (readonly boolean[])[], options?: QrVideoOptions): Promise<void> {
  await writeFile(file, qrY4m(matrix, options))
}
