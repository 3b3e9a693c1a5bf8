// Every user-visible string of the UI, in one place (English). Components import from here.
export const strings = {
  appName: 'Blossom',
  /** index.html's meta description and the manifest's description. */
  description: 'Plan together, offline and end-to-end encrypted.',
  noScript: 'Blossom needs JavaScript.',
  loading: 'Loading…',
  ready: 'Ready.',
  cryptoFailed: 'Encryption could not start in this browser. Blossom cannot be used here.',
  version: (id: string): string => `Version ${id}`,
  updateReady: 'A new version is ready.',
  updateReload: 'Reload',
  updateReloading: 'Reloading…',
} as const

export type Strings = typeof strings
