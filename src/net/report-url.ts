/** The dashboard's address of one report (its router reads `#/r/<id>`), from the sidecar's public base URL. */
export function reportUrl(baseUrl: string, id: number): string {
  return `${baseUrl.replace(/\/+$/, "")}/#/r/${id}`;
}

/** The dashboard's address of one gap (`#/g/<id>`). */
export function gapUrl(baseUrl: string, id: number): string {
  return `${baseUrl.replace(/\/+$/, "")}/#/g/${id}`;
}
