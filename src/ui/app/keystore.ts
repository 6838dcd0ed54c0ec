/**
 * Where the dashboard keeps the API key. sessionStorage by default: the key
 * lives only as long as the tab, so a shared or borrowed browser does not keep
 * an admin credential around. Ticking "remember" moves it to localStorage for
 * people on their own machine who do not want to paste it every session.
 */
const KEY = "patchworkmcp.apiKey";

export function getKey(): string | null {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

export function setKey(value: string, remember: boolean): void {
  forgetKey();
  (remember ? localStorage : sessionStorage).setItem(KEY, value);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

export function keyIsRemembered(): boolean {
  return localStorage.getItem(KEY) !== null;
}
