// A read cursor for binary formats (after lib0's decoding.js): the order of calls is
// the layout, so no offset is typed by hand. Every read checks that the bytes are
// there; a short or overlong input throws CryptoError 'malformed', never reads past.
import { readU32 } from './bytes'
import { CryptoError } from './errors'

export class Reader {
  private at = 0

  constructor(private readonly input: Uint8Array) {}

  u8(): number {
    return this.take(1)[0]!
  }

  u32(): number {
    const v = readU32(this.take(4), 0)
    return v
  }

  /** The next `n` bytes, copied (callers keep them as keys and ids). */
  bytes(n: number): Uint8Array {
    return this.take(n).slice()
  }

  /** `count` items of `size` bytes each, after a u32 count; bounded by what is left. */
  list(size: number): Uint8Array[] {
    const count = this.u32()
    if (count * size > this.input.length - this.at) throw short()
    return Array.from({ length: count }, () => this.bytes(size))
  }

  /** Everything that is left. */
  rest(): Uint8Array {
    return this.take(this.input.length - this.at).slice()
  }

  /** Throws unless every byte was read: trailing bytes mean a format we do not know. */
  done(): void {
    if (this.at !== this.input.length) throw new CryptoError('malformed', 'The data has bytes after its end.')
  }

  private take(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0 || this.at + n > this.input.length) throw short()
    const out = this.input.subarray(this.at, this.at + n)
    this.at += n
    return out
  }
}

const short = () => new CryptoError('malformed', 'The data is shorter than its format says.')
