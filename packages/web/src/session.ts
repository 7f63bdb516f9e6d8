/** @module session — the user's token, kept in sessionStorage so it dies with the tab. */

const KEY = "icaas.token";

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    // Storage can be disabled (privacy settings); the user then signs in per page load.
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // See loadToken.
  }
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // See loadToken.
  }
}
