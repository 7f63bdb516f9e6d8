/** @module users — reads /etc/passwd and /etc/shadow and tells which accounts can log in. */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface ShadowEntry {
  name: string;
  /** The password field: a hash, empty (no password), or starting with `!`/`*` (locked). */
  password: string;
}

/** Shells that refuse an interactive login. */
const NO_LOGIN_SHELLS = new Set([
  "/usr/sbin/nologin",
  "/sbin/nologin",
  "/bin/false",
  "/usr/bin/false",
  "/bin/nologin",
]);

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || !f[0] || f[0].startsWith("#")) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "", shell: f[6] ?? "" });
  }
  return out;
}

export function parseShadow(text: string): ShadowEntry[] {
  const out: ShadowEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 2 || !f[0] || f[0].startsWith("#")) continue;
    out.push({ name: f[0], password: f[1] ?? "" });
  }
  return out;
}

/** True when the shadow password field lets the account log in with a password (empty counts, as in snf-image-creator). */
export function isPasswordUsable(password: string): boolean {
  return !password.startsWith("!") && !password.startsWith("*");
}

/**
 * The accounts that can log in, in shadow order: a usable password (or none at all), a passwd entry,
 * and a login shell. snf-image-creator looked at the password only; an account whose shell is
 * nologin cannot log in whatever its password, so it is left out.
 *
 * @example
 * loginUsers("root:x:0:0::/root:/bin/bash\n", "root:$6$x:1::::::\n") // → ["root"]
 */
export function loginUsers(passwdText: string, shadowText: string): string[] {
  const passwd = new Map(parsePasswd(passwdText).map((p) => [p.name, p]));
  const users: string[] = [];
  for (const s of parseShadow(shadowText)) {
    const p = passwd.get(s.name);
    if (!p || !isPasswordUsable(s.password)) continue;
    if (NO_LOGIN_SHELLS.has(p.shell)) continue;
    if (!users.includes(s.name)) users.push(s.name);
  }
  return users;
}

/**
 * Locks every password, as snf-image-creator's cleanup-passwords does: any field other than exactly
 * `*` or `!` becomes `!` (hashes, empty fields and `!hash` alike). Other fields stay as they were.
 */
export function lockShadow(shadowText: string): { text: string; locked: string[] } {
  const locked: string[] = [];
  const lines = shadowText.split("\n").map((line) => {
    const f = line.split(":");
    if (f.length < 2 || !f[0] || f[0].startsWith("#")) return line;
    if (f[1] === "*" || f[1] === "!") return line;
    f[1] = "!";
    locked.push(f[0]);
    return f.join(":");
  });
  return { text: lines.join("\n"), locked };
}
