/**
 * @module tests/vm/boot-test-image — `npm run boot-test-image -- IMAGE`: deploys any disk image on a
 * throwaway devcloud's qemu driver as snf-image would, boots it, logs in with a fresh key and prints what a
 * user would check (first boot, host keys, machine-id, DHCP lease, failed units). Exit status 1 on problems.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { DEMO_TOKEN, defaultConfig, startDevcloud } from "@icaas/devcloud";
import { CycladesClient, personalityFile } from "@icaas/synnefo";
import { Command } from "commander";
import { FIRST_BOOT, firstBootDone, guestFacts, problems } from "./guest-checks.ts";
import { guest, makeSshKey, waitForSsh } from "./guest-ssh.ts";
import { adminServer, consoleOf, until } from "./vm-harness.ts";

const exec = promisify(execFile);
const IMAGE_ID = "b0071e57-0000-4000-8000-000000000001";

interface Options {
  rootPartition: string;
  users: string;
  swap?: string;
  disk: string;
  ram: string;
  firstBootMinutes: string;
  keep: boolean;
}

async function main(): Promise<number> {
  const program = new Command()
    .name("boot-test-image")
    .argument("<image>", "a disk image: a raw diskdump, or anything qemu-img reads (converted to raw first)")
    .option("--root-partition <n>", "ROOT_PARTITION", "1")
    .option("--users <names>", "USERS: who gets the new password", "root")
    .option("--swap <n:MiB>", "SWAP: a swap partition to make")
    .option("--disk <GiB>", "the flavor's disk", "4")
    .option("--ram <MiB>", "the flavor's RAM", "1024")
    .option("--first-boot-minutes <m>", "how long first boot may take", "6")
    .option("--keep", "keep the devcloud's data directory (disk, console) for inspection", false)
    .parse();
  const opts = program.opts<Options>();
  const dir = await mkdtemp(join(tmpdir(), "icaas-boot-test-"));
  const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  let image = resolve(program.args[0] as string);
  const { stdout } = await exec("qemu-img", ["info", "--output=json", image]);
  if ((JSON.parse(stdout) as { format: string }).format !== "raw") {
    say(`converting ${image} to raw`);
    await exec("qemu-img", ["convert", "-O", "raw", image, join(dir, "image.raw")]);
    image = join(dir, "image.raw");
  }
  const metadata: Record<string, string> = {
    OSFAMILY: "linux",
    ROOT_PARTITION: opts.rootPartition,
    USERS: opts.users,
  };
  if (opts.swap) metadata.SWAP = opts.swap;
  const cloud = await startDevcloud({
    dataDir: join(dir, "devcloud"),
    config: {
      ...defaultConfig(),
      computeDriver: "qemu",
      flavors: [{ id: 1, name: "boot-test", vcpus: 2, ram: Number(opts.ram), disk: Number(opts.disk) }],
      images: [{ id: IMAGE_ID, name: "image under test", file: image, metadata }],
      qemu: { accel: "tcg", powerOffSeconds: 20 },
    },
  });
  const compute = new CycladesClient({
    computeUrl: `${cloud.url}/compute/v2.0`,
    token: DEMO_TOKEN,
    retries: 0,
  });
  let found: string[] = ["did not get as far as logging in"];
  try {
    const key = await makeSshKey(dir);
    const t0 = Date.now();
    const server = await compute.createServer({
      name: "boot-test",
      imageRef: IMAGE_ID,
      flavorRef: 1,
      personality: [personalityFile("/root/.ssh/authorized_keys", `${key.publicLine}\n`, { mode: 0o600 })],
    });
    say(`server ${server.id} created; a new password was set for ${opts.users} (Cyclades' adminPass)`);
    const status = await until(
      "ACTIVE or ERROR",
      async () => {
        const s = (await compute.getServer(server.id)).status;
        return s === "ACTIVE" || s === "ERROR" ? s : undefined;
      },
      300_000,
    );
    if (status === "ERROR") throw new Error(`deployment failed:\n${await consoleOf(cloud.url, server.id)}`);
    const vm = await adminServer(cloud.url, server.id);
    say(
      `deployed and started in ${((Date.now() - t0) / 1000).toFixed(1)} s; ssh on 127.0.0.1:${vm.ports.ssh}`,
    );
    const g = guest(vm.ports.ssh as number, key);
    const ms = await waitForSsh(g, 300_000);
    say(`ssh logs in ${(ms / 1000).toFixed(1)} s after start`);
    const hasFirstBoot = (await g.run(`test -e ${FIRST_BOOT.script} -o -e ${FIRST_BOOT.log}`)).code === 0;
    if (hasFirstBoot) {
      await until(
        "first boot to finish",
        () => firstBootDone(g),
        Number(opts.firstBootMinutes) * 60_000,
        3000,
      );
      say("first boot finished");
    }
    const facts = await guestFacts(g);
    console.log(JSON.stringify(facts, null, 2));
    found = problems(facts, {}).filter((p) => hasFirstBoot || !/^first boot/.test(p));
    await compute.deleteServer(server.id);
    await until(
      "QEMU gone",
      async () => (await adminServer(cloud.url, server.id)).process?.state !== "running",
      60_000,
    );
  } finally {
    await cloud.close();
    if (opts.keep) say(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
  for (const p of found) say(`PROBLEM: ${p}`);
  say(found.length === 0 ? "OK: the image deploys, boots and behaves" : `${found.length} problem(s)`);
  return found.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`boot-test-image: ${error.message}`);
    process.exit(2);
  },
);
