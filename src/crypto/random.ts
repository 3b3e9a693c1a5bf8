import { lib } from './sodium'
import type { SecretKey } from './types'

export const randomBytes = (length: number): Uint8Array => lib().randombytes_buf(length)

/** A fresh 32-byte symmetric key from the OS CSPRNG. */
export const randomKey = (): SecretKey => randomBytes(32) as SecretKey
