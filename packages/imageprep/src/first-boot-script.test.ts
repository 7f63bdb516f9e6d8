/** @module first-boot-script.test — runs the real first-boot script (dash) in a directory standing for the guest's `/`. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  FIRST_BOOT_SCRIPT,
  FIRST_BOOT_STATE,
  FIRST_BOOT_UNIT,
  FIRST_BOOT_UPSTART,
  FIRST_BOOT_WANTS,
  type FirstBootAction,
  RC_LOCAL_LINE,
  renderFirstBootScript,
} from "./first-boot-script.ts";
import type { InitSystem } from "./services.ts";

const ROUTE_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
/** /proc/net/route with a default route through eth0, as after a DHCP lease under QEMU user networking. */
const ROUTE_UP = `${ROUTE_HEADER}eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
/** Only a link route: the interface is up, the lease (and its default route) not there yet. */
const ROUTE_DOWN = `${ROUTE_HEADER}eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;

const ACTIONS: FirstBootAction[] = [
  {
    name: "first-boot-regenerate-ssh-host-keys",
    description: "keys",
    script: 'echo keys >>"$R/ran-keys"',
  },
  {
    name: "first-boot-update-software",
    description: "update",
    script: 'echo update >>"$R/ran-update"\n[ ! -e "$R/apt-broken" ]',
    network: true,
  },
  {
    name: "first-boot-enable-remote-access",
    description: "ssh",
    script: 'echo ssh >>"$R/ran-ssh"',
  },
  {
    name: "first-boot-install-network-management",
    description: "nm",
    script: 'echo nm >>"$R/ran-nm"',
    network: true,
  },
];

async function put(root: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
}

/** A guest root holding the installed script, its hook, a route table and apt sources. */
async function guest(base: string, init: InitSystem, route: string): Promise<string> {
  const root = await mkdtemp(join(base, `${init}-`));
  await put(root, FIRST_BOOT_SCRIPT, renderFirstBootScript(ACTIONS, init));
  await chmod(join(root, FIRST_BOOT_SCRIPT), 0o755);
  await put(root, "/proc/net/route", route);
  // localhost resolves from /etc/hosts: the name check sends nothing to any network.
  await put(root, "/etc/apt/sources.list", "# a comment\ndeb http://localhost/debian bookworm main\n");
  if (init === "systemd") {
    await put(root, FIRST_BOOT_UNIT, "[Unit]\n");
    await put(root, FIRST_BOOT_WANTS, "[Unit]\n");
  } else if (init === "upstart") await put(root, FIRST_BOOT_UPSTART, "task\n");
  else await put(root, "/etc/rc.local", `#!/bin/sh -e\n${RC_LOCAL_LINE}\nexit 0\n`);
  return root;
}

/** One boot: the real script under dash, as the guest's /bin/sh. */
function boot(root: string, netWait = 0): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("dash", [join(root, FIRST_BOOT_SCRIPT)], {
      env: {
        PATH: process.env.PATH ?? "",
        ICAAS_FIRSTBOOT_ROOT: root,
        ICAAS_FIRSTBOOT_NET_WAIT: String(netWait),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, ms: Date.now() - started }));
  });
}

async function lines(path: string): Promise<number> {
  return existsSync(path) ? (await readFile(path, "utf8")).split("\n").filter(Boolean).length : 0;
}

describe("the first-boot script, run for real in a stand-in root", () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), "icaas-firstboot-"));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  for (const init of ["systemd", "upstart", "sysvinit"] as const) {
    it(`${init}: without a network it defers the network step, exits 0 and stays; the next boot with a network finishes and removes it`, async () => {
      const root = await guest(base, init, ROUTE_DOWN);
      const first = await boot(root);
      assert.equal(first.code, 0, first.out);
      assert.match(first.out, /^icaas-firstboot: step regenerate-ssh-host-keys: ok$/m);
      assert.match(first.out, /^icaas-firstboot: network: no default route and name resolution after 0 s$/m);
      assert.match(
        first.out,
        /^icaas-firstboot: step update-software: deferred \(no network\); retried at next boot$/m,
      );
      assert.match(first.out, /^icaas-firstboot: step enable-remote-access: ok$/m);
      assert.match(
        first.out,
        /^icaas-firstboot: pending: update-software install-network-management; runs again at next boot$/m,
      );
      assert.match(
        first.out,
        /^icaas-firstboot: step install-network-management: deferred \(no network\); retried at next boot$/m,
      );
      assert.equal(await lines(join(root, "ran-update")), 0, "apt never ran without a network");
      assert.equal(await lines(join(root, "ran-nm")), 0);
      assert.ok(existsSync(join(root, FIRST_BOOT_SCRIPT)), "the script stays for the next boot");
      assert.ok(!existsSync(join(root, FIRST_BOOT_STATE, "done")));
      const hook = { systemd: FIRST_BOOT_UNIT, upstart: FIRST_BOOT_UPSTART, sysvinit: "/etc/rc.local" }[init];
      if (init === "sysvinit") assert.match(await readFile(join(root, hook), "utf8"), /icaas-first-boot/);
      else assert.ok(existsSync(join(root, hook)), "the hook stays for the next boot");

      await put(root, "/proc/net/route", ROUTE_UP);
      const second = await boot(root);
      assert.equal(second.code, 0, second.out);
      assert.match(second.out, /^icaas-firstboot: step regenerate-ssh-host-keys: already done$/m);
      assert.match(second.out, /^icaas-firstboot: network: up after 0 s$/m);
      assert.match(second.out, /^icaas-firstboot: step update-software: ok$/m);
      assert.match(second.out, /^icaas-firstboot: done$/m);
      assert.equal(await lines(join(root, "ran-keys")), 1, "a done step never runs twice");
      assert.equal(await lines(join(root, "ran-update")), 1);
      assert.equal(await lines(join(root, "ran-nm")), 1);
      assert.ok(existsSync(join(root, FIRST_BOOT_STATE, "done")));
      assert.ok(existsSync(join(root, FIRST_BOOT_STATE, "update-software.ok")));
      assert.ok(!existsSync(join(root, FIRST_BOOT_SCRIPT)), "the script removed itself");
      if (init === "sysvinit") {
        assert.equal(await readFile(join(root, hook), "utf8"), "#!/bin/sh -e\nexit 0\n");
      } else {
        assert.ok(!existsSync(join(root, hook)), "the hook is gone");
        if (init === "systemd") assert.ok(!existsSync(join(root, FIRST_BOOT_WANTS)));
      }
      const log = await readFile(join(root, "/var/log/icaas-first-boot.log"), "utf8");
      assert.match(log, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d icaas-firstboot: step update-software: ok$/m);
    });
  }

  it("retries a failed step at the next boot and removes itself only once it succeeded", async () => {
    const root = await guest(base, "systemd", ROUTE_UP);
    await put(root, "/apt-broken", "");
    const first = await boot(root);
    assert.equal(first.code, 0, "a failed step is not a failed unit");
    assert.match(
      first.out,
      /^icaas-firstboot: step update-software: failed \(status 1\); retried at next boot$/m,
    );
    assert.ok(existsSync(join(root, FIRST_BOOT_UNIT)));
    await rm(join(root, "apt-broken"));
    const second = await boot(root);
    assert.match(second.out, /^icaas-firstboot: done$/m);
    assert.equal(await lines(join(root, "ran-update")), 2);
    assert.ok(!existsSync(join(root, FIRST_BOOT_UNIT)));
  });

  it("waits for the lease's default route within its bound, then runs the network step", async () => {
    const root = await guest(base, "systemd", ROUTE_DOWN);
    const running = boot(root, 60);
    await new Promise((r) => setTimeout(r, 1500));
    await put(root, "/proc/net/route", ROUTE_UP);
    const r = await running;
    assert.match(r.out, /^icaas-firstboot: network: up after [2-9] s$/m);
    assert.match(r.out, /^icaas-firstboot: done$/m);
    assert.ok(r.ms < 20_000, `it went on as soon as the route came (${r.ms} ms)`);
  });

  it("gives up waiting after its bound and leaves the step for the next boot", async () => {
    const root = await guest(base, "systemd", ROUTE_DOWN);
    const r = await boot(root, 4);
    assert.equal(r.code, 0);
    assert.match(r.out, /^icaas-firstboot: network: no default route and name resolution after 4 s$/m);
    assert.ok(r.ms >= 4000 && r.ms < 15_000, `bounded wait (${r.ms} ms)`);
    // One wait per boot: the second network step does not wait again.
    assert.match(r.out, /step install-network-management: deferred/);
    assert.equal((r.out.match(/network: /g) ?? []).length, 1);
  });
});
