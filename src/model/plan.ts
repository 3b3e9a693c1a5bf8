// The core plan, as the UI sees it: plain strings and a change signal. The UI never
// handles Y types, keys or bytes.
import * as Y from 'yjs'

export const PLAN_FIELDS = ['title', 'notes'] as const
export type PlanField = (typeof PLAN_FIELDS)[number]
export type PlanText = Readonly<Record<PlanField, string>>

export class PlanView {
  constructor(private readonly doc: Y.Doc) {}

  read(): PlanText {
    return { title: this.text('title').toString(), notes: this.text('notes').toString() }
  }

  /** Replaces a field's text by the smallest edit, so concurrent edits elsewhere in it merge. */
  set(field: PlanField, value: string): void {
    const text = this.text(field)
    const old = text.toString()
    if (old === value) return
    let start = 0
    while (start < old.length && start < value.length && old[start] === value[start]) start++
    let end = 0
    while (end < old.length - start && end < value.length - start && old[old.length - 1 - end] === value[value.length - 1 - end]) end++
    this.doc.transact(() => {
      if (old.length - start - end > 0) text.delete(start, old.length - start - end)
      if (value.length - start - end > 0) text.insert(start, value.slice(start, value.length - end))
    })
  }

  /** Calls back after every change, local or from a peer. Returns the way to stop. */
  onChange(listener: () => void): () => void {
    const handler = (): void => listener()
    this.doc.on('afterTransaction', handler)
    return () => this.doc.off('afterTransaction', handler)
  }

  private text(field: PlanField): Y.Text {
    return this.doc.getText(field)
  }
}
