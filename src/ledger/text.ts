/**
 * Text as people search it: "Aïcha", "AICHA" and "aicha" are the same name. NFD splits an
 * accented letter into its letter and a combining mark, which is dropped; then lower case.
 * src/db folds stored names the same way (normalize(…, NFD) without U+0300–U+036F, lower).
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
}
