// Releases: what one build of the app is (manifest), who vouches for it (signature), and the
// checks a phone runs before it runs a new one (check).
export { canonicalJson } from './canonical'
export { CONTENT_SECURITY_POLICY, contentTypeOf, SECURITY_HEADERS } from './headers'
export { ReleaseError, type ReleaseErrorCode } from './errors'
export { fileHash, fingerprintOf, MANIFEST_PATH, parseManifestDocument, shortFingerprint, type Fingerprint, type ManifestDocument, type ReleaseManifest } from './manifest'
export { newReleaseSecret, parseReleaseKey, parseSignatureDocument, releaseKeyOf, SIGNATURE_PATH, signManifest, verifyManifest, type ReleaseKey, type ReleaseSecret, type SignatureDocument } from './signature'
export { checkFile, checkFiles, checkRelease, readRelease, isReleaseVersion, refuseOlder, type Release, type ReleaseSource } from './check'
export { forgetOtherReleases, installedRelease, installedReleases, pinKey, pinnedKey, recordInstalled, type InstalledRelease, type ReleaseStanding } from './installed'
