/** @module tasks/cleanup-userdata — removes shell histories, SSH and GnuPG keys and kamaki files from home directories. */
import { outcome, prepareTask } from "./types.ts";

/** snf-image-creator's `sensitive_userdata` default. */
export const SENSITIVE_USERDATA = [
  ".history",
  ".sh_history",
  ".bash_history",
  ".zsh_history",
  ".gnupg",
  ".ssh",
  ".kamakirc",
  ".kamaki.history",
  ".kamaki.log",
];

export const cleanupUserdata = prepareTask({
  name: "cleanup-userdata",
  description: "Remove sensitive user data (histories, .ssh, .gnupg, kamaki files) from /root and /home/*",
  enabledByDefault: true,
  params: [
    {
      name: "sensitive_userdata",
      type: "list",
      default: SENSITIVE_USERDATA,
      description: "Files in the home directory of each user that should be removed",
    },
  ],
  async run({ fs, params }) {
    const names = params.sensitive_userdata as string[];
    const homes = [
      "/root",
      ...(await fs.list("/home")).filter((e) => e.type === "dir").map((e) => `/home/${e.name}`),
    ];
    const victims: string[] = [];
    for (const home of homes) {
      for (const name of names) {
        const path = `${home}/${name}`;
        const st = await fs.lstat(path);
        if (st?.type === "file" || st?.type === "symlink") victims.push(path);
        else if (st?.type === "dir") {
          // As snf-image-creator: the files go, the directory stays (with its mode).
          for (const e of await fs.walk(path)) if (e.type !== "dir") victims.push(e.path);
        }
      }
    }
    await fs.removeTrees(victims);
    return outcome(
      victims.length > 0 ? [`removed ${victims.length} files: ${victims.join(" ")}`] : [],
      "no sensitive user data found",
    );
  },
});
