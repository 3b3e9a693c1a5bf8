// Catalogs compiled at build time (scripts/catalogs.ts): `import('catalog:es')`.
declare module 'catalog:*' {
  import type { Messages } from '@lingui/core'
  const messages: Messages
  export default messages
}
declare module 'catalog-later:*' {
  import type { Messages } from '@lingui/core'
  const messages: Messages
  export default messages
}
