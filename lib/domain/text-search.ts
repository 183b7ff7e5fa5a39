/**
 * Text folding for Vietnamese names. hop stores names in NFC and keeps a folded
 * copy in `*_search` columns, so a search ignores case, tone marks and the
 * other diacritics, and the old and new tone placement ("Hoà", "Hòa") match.
 */

const combiningMarks = /\p{M}/gu;
/** Runs of whitespace, including no-break spaces and other Unicode space separators. */
const whitespaceRuns = /[\s\p{Zs}]+/gu;

/**
 * Normalises a name for storage and de-duplication: NFC, trimmed, and every run
 * of whitespace replaced by one ASCII space. Case and tone marks are kept.
 */
export function normalizeName(text: string): string {
  return text.normalize('NFC').replace(whitespaceRuns, ' ').trim();
}

/**
 * Folds text for search: tone marks and other diacritics removed (NFD, then
 * every combining mark dropped), đ/Đ mapped to d, lower-cased, whitespace
 * collapsed. "Nguyễn Thị Hòa", "Nguyễn Thị Hoà" and "nguyen thi hoa" all fold
 * to "nguyen thi hoa".
 */
export function foldForSearch(text: string): string {
  return normalizeName(text)
    .normalize('NFD')
    .replace(combiningMarks, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .normalize('NFC');
}
