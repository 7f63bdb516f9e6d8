/** @module tasks/disable-ipv6-privacy-extensions — sets net.ipv6.conf.{all,default}.use_tempaddr to 0. */
import { prepareTask } from "./types.ts";

const KEYS = ["net.ipv6.conf.default.use_tempaddr", "net.ipv6.conf.all.use_tempaddr"];

export const disableIpv6PrivacyExtensions = prepareTask({
  name: "disable-ipv6-privacy-extensions",
  description: "Disable IPv6 privacy extensions",
  enabledByDefault: true,
  async run({ fs }) {
    const files = [
      "/etc/sysctl.conf",
      ...(await fs.list("/etc/sysctl.d"))
        .filter((e) => e.name.endsWith(".conf"))
        .map((e) => `/etc/sysctl.d/${e.name}`),
    ];
    const texts = await fs.readTexts(files);
    const seen = new Set<string>();
    const changes: string[] = [];
    for (const [i, text] of texts.entries()) {
      if (text === undefined) continue;
      const next = text.replace(
        /^(\s*)(net\.ipv6\.conf\.(?:all|default)\.use_tempaddr)(\s*=\s*)(\S+)(.*)$/gm,
        (_m, a, key, eq, _v, rest) => {
          seen.add(key);
          return `${a}${key}${eq}0${rest}`;
        },
      );
      if (next !== text) {
        // Kept for the append below, which must not write the old text back over this edit.
        texts[i] = next;
        await fs.writeFile(files[i] as string, next);
        changes.push(`${files[i]}: use_tempaddr = 0`);
      }
    }
    const missing = KEYS.filter((k) => !seen.has(k));
    if (missing.length > 0) {
      const conf = texts[0];
      const body = conf === undefined || conf === "" || conf.endsWith("\n") ? (conf ?? "") : `${conf}\n`;
      await fs.writeFile(
        "/etc/sysctl.conf",
        `${body}${missing.map((k) => `${k} = 0`).join("\n")}\n`,
        conf === undefined ? { mode: 0o644, uid: 0, gid: 0 } : {},
      );
      changes.push(`/etc/sysctl.conf: added ${missing.join(", ")} = 0`);
    }
    return { changes };
  },
});
