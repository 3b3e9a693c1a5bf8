import type { BlossomDB } from '../../src/store'

/** Every key and value in every object store, as raw bytes (strings as UTF-8 and UTF-16). */
export async function everyStoredByte(db: BlossomDB): Promise<Buffer> {
  const chunks: Buffer[] = []
  const add = (v: unknown): void => {
    if (v instanceof Uint8Array) chunks.push(Buffer.from(v))
    else if (typeof v === 'string') chunks.push(Buffer.from(v, 'utf8'), Buffer.from(v, 'utf16le'))
    else if (typeof v === 'number') chunks.push(Buffer.from(String(v)))
    else if (Array.isArray(v)) v.forEach(add)
    else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => (add(k), add(x)))
  }
  for (const name of db.objectStoreNames) {
    const [keys, values] = await Promise.all([db.getAllKeys(name), db.getAll(name)])
    keys.forEach(add)
    values.forEach(add)
  }
  return Buffer.concat(chunks)
}
