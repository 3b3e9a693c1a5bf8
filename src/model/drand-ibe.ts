// Everything the time lock takes from tlock-js and the BLS12-381 libraries, in one module: the app
// loads it, as one chunk of its own, only when a time lock is armed, checked or opened.
export { timelockEncrypt, Buffer } from 'tlock-js'
export { decodeArmor, isProbablyArmored } from 'tlock-js/age/armor'
export { decryptAge } from 'tlock-js/age/age-encrypt-decrypt'
export { decryptOnG2 } from 'tlock-js/crypto/ibe'
export { bls12_381 } from '@noble/curves/bls12-381'
export { sha256 } from '@noble/hashes/sha2'
