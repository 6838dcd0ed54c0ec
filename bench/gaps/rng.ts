/** A seeded PRNG (mulberry32) and helpers, so corpora and synthetic loads are reproducible. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[this.int(16)];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-a${this.hex(3)}-${this.hex(12)}`;
  }
  date(): string {
    const m = 1 + this.int(12);
    const d = 1 + this.int(28);
    return `202${3 + this.int(3)}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
  }
}

/** Fill {date} {date2} {uuid} {run} {num} {id} {email} {path} {url} {name} placeholders with fresh values. */
export function fill(rng: Rng, text: string): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => {
    switch (k) {
      case "date":
      case "date2":
        return rng.pick([
          rng.date(),
          rng.date(),
          `${rng.pick(["Jan", "March", "Sept", "Oct"])} ${1 + rng.int(28)}, 2024`,
          `${1 + rng.int(12)}/${1 + rng.int(28)}/2024`,
        ]);
      case "uuid":
        return rng.uuid();
      case "run":
        return rng.pick(["run_", "job-", "req_", "trace-"]) + rng.hex(rng.pick([6, 8, 12]));
      case "num":
        return String(rng.pick([3, 10, 25, 50, 100, 250, 1000, 5000, 12, 7]) * (1 + rng.int(3)));
      case "id":
        return rng.pick(["inv_", "cus_", "proj-", "evt_", "pg-", "tbl_"]) + String(10000 + rng.int(90000));
      case "email":
        return `${rng.pick(["ana", "li.wei", "j.smith", "ops", "m.okafor"])}@${rng.pick(["acme.io", "example.com", "corp.net"])}`;
      case "path":
        return (
          rng.pick(["/data/exports/", "/srv/app/logs/", "reports/2024/", "src/lib/"]) +
          rng.pick(["q3.csv", "app.log", "summary.json", "index.ts", "backup.tar.gz"])
        );
      case "url":
        return `https://${rng.pick(["app.acme.io", "wiki.corp.net", "git.example.com"])}/${rng.hex(6)}`;
      case "name":
        return rng.pick(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]);
      default:
        return `{${k}}`;
    }
  });
}

/** A realistic typo: two adjacent letters swapped, one dropped, or one doubled, in one longer word. */
export function typo(rng: Rng, text: string): string {
  const words = text.split(" ");
  const idx = words.map((w, i) => (/^[a-z]{6,}$/i.test(w) ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) return text;
  const i = rng.pick(idx);
  const w = words[i]!;
  const p = 1 + rng.int(w.length - 2);
  const kind = rng.int(3);
  words[i] =
    kind === 0
      ? w.slice(0, p) + w[p + 1] + w[p] + w.slice(p + 2)
      : kind === 1
        ? w.slice(0, p) + w.slice(p + 1)
        : w.slice(0, p) + w[p] + w.slice(p);
  return words.join(" ");
}
