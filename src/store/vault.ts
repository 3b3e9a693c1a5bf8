// The vault: everything Blossom keeps on a phone, encrypted under one random master
// key, which is itself wrapped under a key derived from the passphrase (Argon2id).
// Changing the passphrase rewraps 32 bytes; locking forgets the master key.
//
//   passphrase --Argon2id(salt, params)--> wrapping key --opens one slot--> master key
//   master key --keyed BLAKE2b--> index key (opaque record ids), record key (seals records)
//
// Records are sealed with their own id as context, so bytes moved from one record
// to another no longer open.
import {
  AEAD_OVERHEAD,
  concat,
  CryptoError,
  deriveKey,
  framed,
  keyedHash,
  keyFromPassphrase,
  MIN_PASSPHRASE_LENGTH,
  newPassphraseParams,
  open,
  randomBytes,
  randomKey,
  seal,
  toBase64Url,
  u32,
  utf8,
  wipe,
  type DocId,
  type PassphraseParams,
  type SecretKey,
} from '../crypto'
import type { DocStore } from './doc-store'
import type { BlossomDB, VaultHeader } from './db'
import { fromIdbError, storeError } from './errors'

/** Names of the secrets the app keeps. Closed, so a typo cannot create a stray record. */
export type SecretName = 'identity' | 'settings' | 'actions' | 'spare' | `action:${string}`

const WRAPPED_BYTES = 32 + 73 // master key + AEAD overhead
/**
 * Every vault holds one spare record from its first day, of this size once opened: random bytes
 * under a key nobody has, or the decoy a person prepared, sealed under the duress slot's key. The
 * two cannot be told apart, so storage shows neither a decoy nor a duress passphrase.
 */
const SPARE_BYTES = 4096

function headerContext(h: Pick<VaultHeader, 'version' | 'salt' | 'opsLimit' | 'memLimitBytes'>): Uint8Array {
  // Binding the parameters: an attacker who lowers them on disk gets a vault that does not open.
  return concat(utf8('blossom/vault'), u32(h.version), framed(h.salt), u32(h.opsLimit), u32(h.memLimitBytes))
}

async function run<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (e) {
    throw fromIdbError(e)
  }
}

function checkStrength(passphrase: string): void {
  if ([...passphrase.normalize('NFKC')].length < MIN_PASSPHRASE_LENGTH) throw storeError('weak-passphrase')
}

export class Vault {
  private master: SecretKey | undefined
  private indexKey: SecretKey | undefined
  private recordKey: SecretKey | undefined
  private readonly nextSeq = new Map<string, number>()

  private constructor(
    private readonly db: BlossomDB,
    master: SecretKey,
  ) {
    this.master = master
    this.indexKey = deriveKey(master, 'store-index')
    this.recordKey = deriveKey(master, 'store-record')
  }

  static async exists(db: BlossomDB): Promise<boolean> {
    return (await run(() => db.get('vault', 'header'))) !== undefined
  }

  /** Sets Blossom up on this device. Refuses if a vault is already there. */
  static async create(db: BlossomDB, passphrase: string, params: PassphraseParams = newPassphraseParams()): Promise<Vault> {
    checkStrength(passphrase)
    if (await Vault.exists(db)) throw storeError('vault-exists')
    const master = randomKey()
    const header = Vault.wrap(master, passphrase, params)
    await run(async () => {
      const tx = db.transaction('vault', 'readwrite')
      // A second setup racing this one must not overwrite it.
      if ((await tx.store.get('header')) !== undefined) throw storeError('vault-exists')
      await tx.store.put(header, 'header')
      await tx.done
    })
    const vault = new Vault(db, master)
    await vault.renewSpare(undefined)
    return vault
  }

  /**
   * Writes the spare record: a decoy sealed under `duressMaster`, or random filler of the same size.
   * Its id is random and kept in this vault, so a new duress passphrase can replace it.
   */
  private async renewSpare(decoy: { master: SecretKey; content: Uint8Array } | undefined): Promise<void> {
    if (decoy !== undefined && decoy.content.length > SPARE_BYTES - 4) throw storeError('too-large')
    const known = await this.getSecret('spare')
    const id = known === undefined ? toBase64Url(randomBytes(32)) : new TextDecoder().decode(known)
    if (known === undefined) await this.putSecret('spare', utf8(id))
    const padded = new Uint8Array(SPARE_BYTES)
    if (decoy !== undefined) {
      padded.set(u32(decoy.content.length))
      padded.set(decoy.content, 4)
    } else padded.set(randomBytes(SPARE_BYTES))
    const key = decoy === undefined ? randomKey() : deriveKey(decoy.master, 'store-record')
    const box = seal(key, padded, utf8(id))
    wipe(key)
    await run(() => this.db.put('secrets', box, id))
  }

  /** A vault made before spare records existed gets its (random) spare now, so later a decoy changes nothing visible. */
  async ensureSpare(): Promise<void> {
    if ((await this.getSecret('spare')) === undefined) await this.renewSpare(undefined)
  }

  /**
   * On a vault opened with the duress passphrase: the decoy the person prepared, if any. Its record
   * id is not known here (it is kept in the real vault), so every record is tried.
   */
  async decoy(): Promise<Uint8Array | undefined> {
    const { record } = this.keys()
    const ids = await run(() => this.db.getAllKeys('secrets'))
    for (const id of ids) {
      const box = await run(() => this.db.get('secrets', id))
      if (box === undefined || box.length !== SPARE_BYTES + AEAD_OVERHEAD) continue
      try {
        const padded = open(record, box, utf8(id))
        const length = new DataView(padded.buffer, padded.byteOffset).getUint32(0)
        if (length <= SPARE_BYTES - 4) return padded.slice(4, 4 + length)
      } catch (e) {
        if (!(e instanceof CryptoError)) throw e
      }
    }
    return undefined
  }

  /**
   * Opens the vault. A wrong passphrase throws StoreError 'wrong-passphrase' and changes
   * nothing. `duress` is true when the passphrase was the duress one: the caller must wipe.
   */
  static async open(db: BlossomDB, passphrase: string): Promise<{ vault: Vault; duress: boolean }> {
    const header = await run(() => db.get('vault', 'header'))
    if (!header) throw storeError('no-vault')
    const { key, slot } = Vault.unwrap(header, passphrase)
    return { vault: new Vault(db, key), duress: slot === 1 }
  }

  /** Opens the vault with its main passphrase only (a duress passphrase counts as wrong here). */
  static async unlock(db: BlossomDB, passphrase: string): Promise<Vault> {
    const { vault, duress } = await Vault.open(db, passphrase)
    if (duress) throw storeError('wrong-passphrase')
    return vault
  }

  private static wrap(master: SecretKey, passphrase: string, params: PassphraseParams): VaultHeader {
    const base = { version: 1 as const, salt: params.salt, opsLimit: params.opsLimit, memLimitBytes: params.memLimitBytes }
    const wrappingKey = keyFromPassphrase(passphrase, params)
    const slot0 = seal(wrappingKey, master, headerContext(base))
    wipe(wrappingKey)
    if (slot0.length !== WRAPPED_BYTES) throw new Error('unexpected wrapped key size')
    // The spare slot is a real box under a key nobody has: it cannot be told from a second wrapped key.
    const spare = seal(randomKey(), randomBytes(32), headerContext(base))
    return { ...base, slots: [slot0, spare] }
  }

  private static unwrap(header: VaultHeader, passphrase: string): { key: SecretKey; slot: 0 | 1 } {
    const wrappingKey = keyFromPassphrase(passphrase, header)
    try {
      // Both slots are always tried, so timing does not tell whether slot 1 is in use.
      let found: { key: SecretKey; slot: 0 | 1 } | undefined
      header.slots.forEach((box, slot) => {
        try {
          const key = open(wrappingKey, box, headerContext(header)) as SecretKey
          found ??= { key, slot: slot as 0 | 1 }
        } catch (e) {
          if (!(e instanceof CryptoError)) throw e
        }
      })
      if (!found) throw storeError('wrong-passphrase')
      return found
    } finally {
      wipe(wrappingKey)
    }
  }

  /**
   * Checks the current passphrase, then rewraps the master key under the new one. The salt,
   * the parameters and the second slot stay as they are: the vault cannot know whether that
   * slot holds a duress passphrase (nobody can), so it must keep it working.
   */
  async changePassphrase(current: string, next: string): Promise<void> {
    this.keys()
    checkStrength(next)
    const header = await run(() => this.db.get('vault', 'header'))
    if (!header) throw storeError('no-vault')
    const { key, slot } = Vault.unwrap(header, current)
    if (slot !== 0) throw storeError('wrong-passphrase')
    const slot0 = Vault.sealSlot(key, next, header)
    wipe(key)
    await run(() => this.db.put('vault', { ...header, slots: [slot0, header.slots[1]] }, 'header'))
  }

  /**
   * Sets a duress passphrase: entered at unlock, it opens slot 1, and the app wipes itself
   * and opens empty. Stored exactly like the spare slot it replaces (a box of the same size
   * under a key derived the same way), so storage does not show that one exists.
   */
  async setDuressPassphrase(current: string, duress: string, decoy?: Uint8Array): Promise<void> {
    this.keys()
    checkStrength(duress)
    if (duress.normalize('NFKC') === current.normalize('NFKC')) throw storeError('weak-passphrase')
    const header = await run(() => this.db.get('vault', 'header'))
    if (!header) throw storeError('no-vault')
    if (Vault.unwrap(header, current).slot !== 0) throw storeError('wrong-passphrase')
    const duressMaster = randomKey()
    const slot1 = Vault.sealSlot(duressMaster, duress, header)
    // The decoy first: a new duress key makes an earlier decoy unreadable, so it is replaced either way.
    await this.renewSpare(decoy === undefined ? undefined : { master: duressMaster, content: decoy })
    wipe(duressMaster)
    await run(() => this.db.put('vault', { ...header, slots: [header.slots[0], slot1] }, 'header'))
  }

  private static sealSlot(master: SecretKey, passphrase: string, header: PassphraseParams & Pick<VaultHeader, 'version'>): Uint8Array {
    const wrappingKey = keyFromPassphrase(passphrase, header)
    const slot = seal(wrappingKey, master, headerContext(header))
    wipe(wrappingKey)
    return slot
  }

  /** Removes everything Blossom stored in this browser: the database, whole. */
  static async wipeAll(db: BlossomDB): Promise<void> {
    const name = db.name
    db.close()
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(name)
      req.onsuccess = () => resolve()
      req.onerror = () => reject(fromIdbError(req.error))
      // Another tab holding the database open: the delete waits for it, then completes.
      req.onblocked = () => undefined
    })
  }

  get locked(): boolean {
    return this.master === undefined
  }

  /** Forgets every key. Reopening needs the passphrase. */
  lock(): void {
    for (const k of [this.master, this.indexKey, this.recordKey]) if (k) wipe(k)
    this.master = this.indexKey = this.recordKey = undefined
  }

  private keys(): { index: SecretKey; record: SecretKey } {
    if (!this.indexKey || !this.recordKey) throw storeError('locked')
    return { index: this.indexKey, record: this.recordKey }
  }

  private idOf(kind: string, name: string): string {
    return toBase64Url(keyedHash(this.keys().index, 'store-index', utf8(kind), utf8(name)))
  }

  private sealRecord(id: string, bytes: Uint8Array): Uint8Array {
    return seal(this.keys().record, bytes, utf8(id))
  }

  private openRecord(id: string, box: Uint8Array): Uint8Array {
    try {
      return open(this.keys().record, box, utf8(id))
    } catch (e) {
      if (e instanceof CryptoError) throw storeError('corrupt')
      throw e
    }
  }

  // --- secrets --------------------------------------------------------------

  async putSecret(name: SecretName, bytes: Uint8Array): Promise<void> {
    const id = this.idOf('secret', name)
    const box = this.sealRecord(id, bytes)
    await run(() => this.db.put('secrets', box, id))
  }

  async getSecret(name: SecretName): Promise<Uint8Array | undefined> {
    const id = this.idOf('secret', name)
    const box = await run(() => this.db.get('secrets', id))
    return box === undefined ? undefined : this.openRecord(id, box)
  }

  async deleteSecret(name: SecretName): Promise<void> {
    const id = this.idOf('secret', name)
    await run(() => this.db.delete('secrets', id))
  }

  // --- document ciphertext ----------------------------------------------------

  /** Stores documents' transport state, sealed again under the vault (a doc key alone does not open it). */
  readonly docStore: DocStore = {
    load: async (docId) => {
      const tag = this.idOf('doc', docId)
      const range = IDBKeyRange.bound([tag, 0], [tag, Number.MAX_SAFE_INTEGER])
      const [keys, boxes] = await run(() => Promise.all([this.db.getAllKeys('docs', range), this.db.getAll('docs', range)]))
      const last = keys[keys.length - 1]
      this.nextSeq.set(tag, last ? last[1] + 1 : 0)
      return boxes.map((box, i) => this.openRecord(this.docRecordId(tag, keys[i]![1]), box))
    },
    append: async (docId, update) => {
      const tag = this.idOf('doc', docId)
      const seq = await this.takeSeq(tag)
      const box = this.sealRecord(this.docRecordId(tag, seq), update)
      await run(() => this.db.put('docs', box, [tag, seq]))
    },
    replace: async (docId, state) => {
      const tag = this.idOf('doc', docId)
      const seq = await this.takeSeq(tag)
      const box = this.sealRecord(this.docRecordId(tag, seq), state)
      await run(async () => {
        // One transaction: either the compacted state replaces everything, or nothing changes.
        const tx = this.db.transaction('docs', 'readwrite')
        await tx.store.delete(IDBKeyRange.bound([tag, 0], [tag, seq], false, true))
        await tx.store.put(box, [tag, seq])
        await tx.done
      })
    },
  }

  /** Removes everything stored for one document. */
  async deleteDoc(docId: DocId): Promise<void> {
    const tag = this.idOf('doc', docId)
    await run(() => this.db.delete('docs', IDBKeyRange.bound([tag, 0], [tag, Number.MAX_SAFE_INTEGER])))
    this.nextSeq.delete(tag)
  }

  private docRecordId(tag: string, seq: number): string {
    return `${tag}/${seq}`
  }

  private async takeSeq(tag: string): Promise<number> {
    let seq = this.nextSeq.get(tag)
    if (seq === undefined) {
      const range = IDBKeyRange.bound([tag, 0], [tag, Number.MAX_SAFE_INTEGER])
      const cursor = await run(() => this.db.transaction('docs').store.openKeyCursor(range, 'prev'))
      seq = cursor ? cursor.key[1] + 1 : 0
    }
    this.nextSeq.set(tag, seq + 1)
    return seq
  }
}
