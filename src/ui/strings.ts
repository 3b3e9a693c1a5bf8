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

  // First run and unlock
  setupTitle: 'Set up Blossom on this phone',
  setupIntro:
    'Everything Blossom keeps on this phone is encrypted under a passphrase. Choose one you can remember and others cannot guess: a few unrelated words work well.',
  passphrase: 'Passphrase',
  passphraseAgain: 'Passphrase again',
  passphraseMismatch: 'The two passphrases differ.',
  setUp: 'Set up',
  settingUp: 'Setting up…',
  unlockTitle: 'Unlock Blossom',
  unlock: 'Unlock',
  unlocking: 'Unlocking…',
  lock: 'Lock',

  // Actions
  actionsTitle: 'Your actions',
  noActions: 'No actions on this phone yet.',
  role: (core: boolean): string => (core ? 'core' : 'participant'),
  newActionTitle: 'Title of a new action',
  createAction: 'Create action',
  untitled: 'Untitled action',
  joinLink: 'Invite link',
  join: 'Join',
  joinWaiting: 'Waiting for a core phone to be online…',
  joinAsking: 'Asking to join…',
  settings: 'Settings',
  back: 'Back',

  // Plan
  planTitle: 'Title',
  planNotes: 'Notes',
  online: (peers: number): string => `Online · ${peers} ${peers === 1 ? 'peer' : 'peers'}`,
  offline: 'Offline: changes are kept on this phone and sync when you are back online.',
  lastReceived: (when: string): string => `Last update from others: ${when}`,
  inviteCore: 'Invite a core member',
  inviteLinkLabel: 'One-time invite link (works once)',
  invitesTitle: 'Invites',
  inviteState: { open: 'open', used: 'used', expired: 'expired', revoked: 'revoked' } as Record<string, string>,

  // Settings
  settingsTitle: 'Settings',
  serverRelay: 'Also relay through the server (faster in a crowd; the server still sees only ciphertext)',
  relayOnly: 'Relay-only mode: hide this phone’s IP address from other phones (needs a TURN server)',
  ipNotice:
    'Phones connected directly learn each other’s IP address. Relay-only mode prevents that, if a TURN server is set.',
} as const

export type Strings = typeof strings
