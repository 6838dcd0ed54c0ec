/** Small display helpers. */

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const seconds = (date.getTime() - Date.now()) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(Math.round(seconds), "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), "day");
  return absolute.format(date);
}

export function fullTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : absolute.format(date);
}

export const count = (n: number): string => n.toLocaleString();

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A latency: "0.8 ms", "42 ms", "1.5 s"; "—" when there is none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 10) return `${(Math.round(ms * 10) / 10).toLocaleString()} ms`;
  if (ms < 1000) return `${Math.round(ms).toLocaleString()} ms`;
  return `${(Math.round(ms / 100) / 10).toLocaleString()} s`;
}

/** A share 0…1 as a percentage with one decimal ("12.5%"); "—" when there is none. */
export function share(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  return `${(Math.round(ratio * 1000) / 10).toLocaleString(undefined, { minimumFractionDigits: 1 })}%`;
}
