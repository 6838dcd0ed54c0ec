/**
 * A small suffix stemmer (not Porter): plurals, -ing, -ed, -ly, -ation, and a trailing "e",
 * applied in that order so that inflections of one word meet at one stem
 * ("filters", "filtering", "filtered" -> "filter"; "create", "creating", "creation" -> "creat").
 * The stems need not be words; they only need to be the same for the same word.
 */

const VOWELS = new Set(["a", "e", "i", "o", "u", "y"]);
// Double consonants that stay double when a suffix goes ("install-ing" keeps its l; "miss-ed" its s).
const KEEP_DOUBLE = new Set(["l", "s", "z", "f"]);

function hasVowel(s: string): boolean {
  for (const c of s) if (VOWELS.has(c)) return true;
  return false;
}

/** "runn" -> "run", "mapp" -> "map", but "install" stays. */
function undouble(s: string): string {
  const n = s.length;
  if (n >= 3 && s[n - 1] === s[n - 2] && !VOWELS.has(s[n - 1]!) && !KEEP_DOUBLE.has(s[n - 1]!)) return s.slice(0, -1);
  return s;
}

function plural(w: string): string {
  if (w.length <= 3) return w;
  if (w.endsWith("ies") && w.length > 4) return `${w.slice(0, -3)}y`;
  if (w.endsWith("sses")) return w.slice(0, -2);
  if (/(?:x|ch|sh|zz)es$/.test(w)) return w.slice(0, -2);
  if (w.endsWith("s") && !/(?:ss|us|is|ys)$/.test(w)) return w.slice(0, -1);
  return w;
}

function verbal(w: string): string {
  if (w.endsWith("ing") && w.length >= 6) {
    const base = w.slice(0, -3);
    if (hasVowel(base)) return undouble(base);
  }
  if (w.endsWith("ied") && w.length >= 5) return `${w.slice(0, -3)}y`;
  if (w.endsWith("ed") && w.length >= 5 && !w.endsWith("eed")) {
    const base = w.slice(0, -2);
    if (hasVowel(base)) return undouble(base);
  }
  return w;
}

function adverb(w: string): string {
  if (w.endsWith("ily") && w.length >= 5) return `${w.slice(0, -3)}y`;
  if (w.endsWith("ly") && w.length >= 6) return w.slice(0, -2);
  return w;
}

function derivational(w: string): string {
  if (w.endsWith("izations") && w.length >= 10) return `${w.slice(0, -8)}ize`;
  if (w.endsWith("ization") && w.length >= 9) return `${w.slice(0, -7)}ize`;
  if (w.endsWith("ations") && w.length >= 8) return `${w.slice(0, -6)}ate`;
  if (w.endsWith("ation") && w.length >= 7) return `${w.slice(0, -5)}ate`;
  return w;
}

/** Stem one lower-case word. Words of three letters or fewer, and anything not purely a-z, are kept as they are. */
export function stem(word: string): string {
  if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word;
  let w = derivational(word);
  w = plural(w);
  w = verbal(w);
  w = adverb(w);
  if (w.length > 4 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}
