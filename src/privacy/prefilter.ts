/**
 * The cheap pass before the rules: one loop over the lower-cased text that reports which of a
 * fixed set of literals occur in it (every rule names literals one of which any match of it
 * contains: `ghp_`, `bearer`, `@`, …) and the longest run of digits among phone-number
 * punctuation (card and phone numbers need 8 or more). A rule whose literals are all absent is
 * never run; most reports contain none of them, so most of the rules' expressions never scan
 * most reports. String#includes per literal costs about 1 ns per character each, which for
 * fifty literals is more than all the rules together.
 */
export interface Prescan {
  /** The literals that occur. */
  found: Set<string>;
  /** The most digits in one run of digits, spaces and `.()+-`. */
  digitRun: number;
}

export class LiteralScanner {
  /** First two char codes (both < 128) → the literals of 2+ characters that start with them. */
  private readonly byPair: (string[] | undefined)[] = new Array<string[] | undefined>(128 * 128).fill(undefined);
  /** 1 where byPair has literals (16 KB: stays in cache). */
  private readonly pairs = new Uint8Array(128 * 128);
  private readonly singles: string[] = [];

  constructor(literals: Iterable<string>) {
    for (const lit of new Set(literals)) {
      if (lit.length === 0) throw new Error("a prefilter literal must not be empty");
      if (lit !== lit.toLowerCase()) throw new Error(`prefilter literal ${lit} must be lower case`);
      if (lit.length === 1) {
        this.singles.push(lit);
        continue;
      }
      const a = lit.charCodeAt(0);
      const b = lit.charCodeAt(1);
      if (a >= 128 || b >= 128) throw new Error(`prefilter literal ${lit} must start with two ASCII characters`);
      const key = a * 128 + b;
      this.pairs[key] = 1;
      const list = this.byPair[key];
      if (list) list.push(lit);
      else this.byPair[key] = [lit];
    }
  }

  scan(lower: string): Prescan {
    const found = new Set<string>();
    for (const s of this.singles) if (lower.includes(s)) found.add(s);
    const pairs = this.pairs;
    const n = lower.length;
    let run = 0;
    let digitRun = 0;
    let a = n > 0 ? lower.charCodeAt(0) : 0;
    for (let i = 0; i < n; i++) {
      const b = i + 1 < n ? lower.charCodeAt(i + 1) : 0;
      if (a >= 48 && a <= 57) {
        if (++run > digitRun) digitRun = run;
      } else if (a !== 32 && a !== 46 && a !== 45 && a !== 40 && a !== 41 && a !== 43) run = 0;
      if (((a | b) & 0xff80) === 0 && pairs[(a << 7) | b] === 1)
        for (const lit of this.byPair[(a << 7) | b]!) if (lower.startsWith(lit, i)) found.add(lit);
      a = b;
    }
    return { found, digitRun };
  }
}
