/** @module web-ui.test — the web UI in headless Chromium against a real service, devcloud and agent. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type SourceServer, startSourceServer } from "@icaas/agent/testing";
import { buildTestDisk } from "@icaas/imageprep/testing";
import { findServer, type Stack, setFaults, waitFor } from "@icaas/service/testing";
import type { Page } from "playwright-core";
import { type Browser, DESKTOP, launchBrowser, PHONE, screenshot } from "./browser.ts";
import { DEMO_TOKEN, NO_VM_USER, startBrowserStack } from "./stack.ts";
import { DIST_DIR, ensureUiBuilt } from "./ui-build.ts";

const BUILD_TIMEOUT_MS = 120_000;

const text = (value: string | null): string => value ?? "";

describe("web UI in Chromium against the real service, devcloud and agent", () => {
  let stack: Stack;
  let browser: Browser;
  let source: SourceServer;
  let page: Page;
  let completedId = "";
  let canceledId = "";

  before(async () => {
    const report = ensureUiBuilt();
    console.log(report);
    assert.match(report, /first-load JS: [\d.]+ KB gzipped/);
    stack = await startBrowserStack(DIST_DIR);
    const disk = join(stack.dataDir, "debian12.img");
    await buildTestDisk({ path: disk, swap: true, diskMiB: 64 });
    source = await startSourceServer();
    source.serve("/debian12.img", { path: disk });
    // Slow enough (64 MiB at 256 KiB/s) that the cancel test always catches it downloading.
    source.serve("/slow/debian12.img", { path: disk, bytesPerSecond: 256 * 1024 });
    browser = await launchBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await source?.close();
    await stack?.close();
  });

  /** The build as the API sees it, for checking what the page shows against it. */
  async function apiBuild(id: string): Promise<{ status: number; build?: Record<string, unknown> }> {
    const res = await fetch(`${stack.api}/builds/${id}`, { headers: { "X-Auth-Token": DEMO_TOKEN } });
    const body = (await res.json()) as { build?: Record<string, unknown> };
    return { status: res.status, build: body.build };
  }

  async function createThroughForm(name: string, src: string): Promise<string> {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "New build" }).click();
    await page.getByRole("heading", { name: "New image build" }).waitFor();
    await page.getByLabel("Source URL").fill(src);
    await page.getByLabel("Name (required)").fill(name);
    await page.getByLabel("Description").fill(`Made by the browser test (${name})`);
    await page.getByRole("button", { name: "Create build" }).click();
    await page.waitForURL(/\/builds\/\d+$/);
    return new URL(page.url()).pathname.split("/").pop()!;
  }

  it("refuses a bad token with a message and keeps the user on the login page", async () => {
    await page.goto(`${stack.url}/`);
    await page.waitForURL(/\/login/);
    await page.getByRole("heading", { name: "Sign in to ICaaS" }).waitFor();
    // Against the devcloud demo the page says where the demo token is.
    const hint = page.locator(".notice", { hasText: "Demo cloud" });
    assert.match(text(await hint.textContent()), /printed in the terminal running the demo/);
    await screenshot(page, "login-desktop");

    await page.getByLabel("API token").fill("not-a-valid-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("This token was not accepted").waitFor();
    assert.match(new URL(page.url()).pathname, /^\/login$/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("icaas.token")), null);
    assert.equal(await page.getByLabel("API token").getAttribute("aria-invalid"), "true");
    await screenshot(page, "login-bad-token-desktop");
  });

  it("logs in with the demo token, kept in sessionStorage", async () => {
    await page.getByLabel("API token").fill(DEMO_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Your builds" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("icaas.token")), DEMO_TOKEN);
    await page.getByText("You have no builds yet.").waitFor();
  });

  it("checks the create form in the page before sending it", async () => {
    await page.getByRole("link", { name: "New build" }).first().click();
    await page.getByLabel("Source URL").fill("ftp://example.org/disk.img");
    await page.getByRole("button", { name: "Create build" }).click();
    await page.getByText("Only http:// and https:// sources can be downloaded").waitFor();
    await page.getByText("Give the image a name.").waitFor();
    // Focus goes to the first field in trouble, whose error is its description.
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "src");
    const described = await page.getByLabel("Source URL").getAttribute("aria-describedby");
    assert.ok(described, "the URL field names its error");
    assert.match(text(await page.locator(`[id="${described.split(" ").pop()}"]`).textContent()), /Only http/);
    await screenshot(page, "create-errors-desktop");
    await page.setViewportSize(PHONE);
    await page.locator("summary", { hasText: "Advanced" }).click();
    await screenshot(page, "create-advanced-phone");
    await page.setViewportSize(DESKTOP);
  });

  it("creates a build from a local source and shows it reach COMPLETED with its steps and log tail", {
    timeout: BUILD_TIMEOUT_MS + 30_000,
  }, async () => {
    completedId = await createThroughForm("browser-debian", `${source.url}/debian12.img`);
    await page.locator(".flash").getByText("Build “browser-debian” accepted").waitFor();
    await page.getByRole("heading", { name: "browser-debian" }).waitFor();

    await page
      .locator('.status-card [data-status="COMPLETED"]')
      .waitFor({ timeout: BUILD_TIMEOUT_MS })
      .catch(async (error) => {
        await screenshot(page, "FAILED-create-desktop");
        const { build } = await apiBuild(completedId);
        throw new Error(`never COMPLETED: ${JSON.stringify(build)}\n${error}`);
      });
    const { build } = await apiBuild(completedId);
    assert.equal(build?.status, "COMPLETED");

    const states = await page
      .locator(".timeline__step")
      .evaluateAll((items) =>
        items.map((li) => [li.getAttribute("data-step"), li.getAttribute("data-state")]),
      );
    assert.equal(states.length, 10, "every agent step is on the timeline");
    for (const [step, state] of states)
      assert.ok(state === "done" || state === "skipped", `${step}: ${state}`);
    for (const step of ["download", "upload", "register"]) {
      assert.ok(
        states.some(([s, st]) => s === step && st === "done"),
        `${step} done`,
      );
      // A finished step shows how long it took.
      assert.match(
        text(await page.locator(`[data-step="${step}"] .timeline__time`).textContent()),
        /\d+ (s|min)/,
      );
    }

    const log = text(await page.getByRole("region", { name: "Agent log tail" }).textContent());
    // The tail follows new lines: it is scrolled to its end.
    const fromEnd = await page
      .getByRole("region", { name: "Agent log tail" })
      .evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    assert.ok(fromEnd < 8, `log scrolled to the end (${fromEnd}px left)`);
    assert.ok(log.trim().split("\n").length >= 3, `the log tail has lines: ${log}`);
    const tail = build?.log_tail as string[];
    assert.ok(log.includes(tail.at(-1)!), "the page shows the service's last log line");

    const imageId = build?.image_id as string;
    assert.ok(imageId, "the service knows the image id");
    const facts = text(await page.getByRole("complementary", { name: "Build details" }).textContent());
    assert.ok(facts.includes(imageId), "the image id is shown");
    assert.match(facts, /pithos:\/\/[^/\s]+\/images\//, "the Pithos location is shown");
    assert.equal(await page.getByRole("button", { name: "Cancel build" }).count(), 0, "no cancel once done");

    await screenshot(page, "detail-completed-desktop");
    await page.setViewportSize(PHONE);
    await screenshot(page, "detail-completed-phone");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `nothing wider than a phone (${overflow}px too wide)`);
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const light = await background();
    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await background();
    assert.notEqual(dark, light, "the page follows the system's dark preference");
    const [r = 255, g = 255, b = 255] = (dark.match(/\d+/g) ?? []).map(Number);
    assert.ok(r + g + b < 150, `a dark background in dark mode (${dark})`);
    await screenshot(page, "detail-completed-phone-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize(DESKTOP);
  });

  it("cancels a running build after confirmation: CANCELED shown and the agent VM deleted in devcloud", {
    timeout: 90_000,
  }, async () => {
    canceledId = await createThroughForm("browser-cancel", `${source.url}/slow/debian12.img`);
    await page.locator('[data-step="download"][data-state="running"]').waitFor({ timeout: 60_000 });
    const vm = await waitFor("the agent VM", () => findServer(stack.cloud, canceledId), 30_000);
    assert.equal(vm.deleted, false);
    assert.equal(vm.process?.state, "running", "the agent runs in the VM");

    // Polling must not move things: the steps and the log keep their places across several refreshes.
    const layout = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll("[data-step], .log__text, .status-card")).map((el) => {
          const box = el.getBoundingClientRect();
          return `${el.getAttribute("data-step") ?? el.className}:${box.top}:${box.height}`;
        }),
      );
    const before = await layout();
    const bytesBefore = text(await page.locator('[data-step="download"] .timeline__bytes').textContent());
    await page.waitForTimeout(5000);
    assert.deepEqual(await layout(), before, "no layout jumps while polling");
    const bytesAfter = text(await page.locator('[data-step="download"] .timeline__bytes').textContent());
    assert.notEqual(bytesAfter, bytesBefore, `the download's byte count moves on (${bytesAfter})`);

    // The list shows a running build with its progress bar and current step.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Builds" }).click();
    const row = page.locator(`[data-build-id="${canceledId}"]`);
    await row.getByRole("progressbar").waitFor();
    assert.match(text(await row.locator(".build-row__step").textContent()), /Download source/);
    const heights = await page
      .locator(".build-row")
      .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    assert.equal(new Set(heights).size, 1, `running and finished rows are one height: ${heights}`);

    // While the tab is hidden the list stops polling; back in view it refreshes at once.
    const listCalls: number[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/icaas/builds") listCalls.push(Date.now());
    });
    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, "hidden", { value: h, configurable: true });
        Object.defineProperty(document, "visibilityState", {
          value: h ? "hidden" : "visible",
          configurable: true,
        });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);
    await setHidden(true);
    const hiddenAt = Date.now();
    await page.waitForTimeout(6000);
    assert.equal(listCalls.filter((t) => t > hiddenAt + 500).length, 0, "no polling while hidden");
    const shownAt = Date.now();
    await setHidden(false);
    await waitFor("a refresh on return", async () => listCalls.some((t) => t >= shownAt), 1500);
    page.removeAllListeners("request");
    await screenshot(page, "list-running-desktop");
    await page.setViewportSize(PHONE);
    await screenshot(page, "list-running-phone");
    await page.setViewportSize(DESKTOP);

    await row.getByRole("link", { name: "browser-cancel" }).click();
    await page.getByRole("button", { name: "Cancel build" }).click();
    const dialog = page.getByRole("dialog", { name: "Cancel this build?" });
    await dialog.waitFor();
    await screenshot(page, "cancel-dialog-desktop");
    await dialog.getByRole("button", { name: "Cancel build" }).click();
    await page.locator('.status-card [data-status="CANCELED"]').waitFor({ timeout: 15_000 });
    assert.equal((await apiBuild(canceledId)).build?.status, "CANCELED");
    // The step the agent was on shows as stopped, not failed.
    await page.locator('[data-step="download"][data-state="stopped"]').waitFor();

    const gone = await waitFor(
      "the agent VM deleted",
      async () => {
        const server = await findServer(stack.cloud, canceledId);
        return server?.deleted && server.process?.state !== "running" ? server : undefined;
      },
      30_000,
    );
    assert.equal(gone.deleted, true);
    await screenshot(page, "detail-canceled-desktop");
  });

  it("deletes a build after a keyboard-driven confirmation", async () => {
    assert.match(page.url(), new RegExp(`/builds/${canceledId}$`));
    const remove = page.getByRole("button", { name: "Delete" });
    await remove.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Delete this build?" });
    await dialog.waitFor();
    // The modal takes focus on its safe button; Escape closes it and focus returns to "Delete".
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Keep it");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Delete");
    assert.equal((await apiBuild(canceledId)).status, 200, "nothing deleted on Escape");

    await page.keyboard.press("Enter");
    await dialog.waitFor();
    // Escape and straight back in: the dialog opens again (its close event arrives late).
    await page.keyboard.press("Escape");
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Keep it");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/builds$/);
    await page.locator(".flash").getByText("Build “browser-cancel” deleted.").waitFor();
    await page.locator(`[data-build-id="${completedId}"]`).waitFor();
    assert.equal(await page.locator(`[data-build-id="${canceledId}"]`).count(), 0);
    assert.equal((await apiBuild(canceledId)).status, 404);
  });

  it("filters the list by status and name", async () => {
    await page.getByLabel("Status").selectOption("completed");
    await page.waitForURL(/status=completed/);
    await page.locator(`[data-build-id="${completedId}"]`).waitFor();
    await page.getByLabel("Status").selectOption("canceled");
    await page.getByText("No builds match these filters.").waitFor();
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Name").fill("no-such-name");
    await page.getByText("No builds match these filters.").waitFor();
    await page.getByLabel("Name").fill("DEBIAN");
    await page.locator(`[data-build-id="${completedId}"]`).waitFor();
    await page.getByLabel("Name").fill("");
    await screenshot(page, "list-desktop");
    await page.setViewportSize(PHONE);
    await screenshot(page, "list-phone");
    await page.setViewportSize(DESKTOP);
  });

  it("shows the service's message, not a blank page, when the server fails", async () => {
    // Astakos down: the service answers every user call 503 auth_unavailable.
    await setFaults(stack.cloud, { identity: { errorRate: 1 } });
    try {
      await page.reload();
      const notice = page.getByRole("alert").filter({ hasText: "Could not load your builds" });
      await notice.waitFor({ timeout: 15_000 });
      assert.match(text(await notice.textContent()), /Authentication service unavailable/);
      await page.getByRole("heading", { name: "Your builds" }).waitFor();
      assert.match(new URL(page.url()).pathname, /^\/builds/, "still signed in: a 503 is not a bad token");
      await screenshot(page, "server-error-desktop");
    } finally {
      await setFaults(stack.cloud, {});
    }
    // Once the service recovers, so does the page.
    await page.getByRole("button", { name: "Retry" }).click();
    await page.locator(`[data-build-id="${completedId}"]`).waitFor();
    assert.equal(await page.getByRole("alert").filter({ hasText: "Could not load" }).count(), 0);
  });

  it("signs out, forgetting the token", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to ICaaS" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("icaas.token")), null);
    assert.deepEqual(browser.pageErrors, [], "no uncaught errors in the page");
  });

  it("pages older builds on demand and shows a failed build's error with its hint", async () => {
    // 23 builds of a user without VM quota: each ends in ERROR as soon as Cyclades refuses its VM.
    const ids: number[] = [];
    for (let i = 1; i <= 23; i++) {
      const res = await fetch(`${stack.api}/builds`, {
        method: "POST",
        headers: { "X-Auth-Token": NO_VM_USER.token, "Content-Type": "application/json" },
        body: JSON.stringify({
          build: { name: `quota-${String(i).padStart(2, "0")}`, src: `${source.url}/x.img` },
        }),
      });
      assert.equal(res.status, 202);
      ids.push(((await res.json()) as { build: { id: number } }).build.id);
    }
    await waitFor(
      "every build in ERROR",
      async () => {
        const res = await fetch(`${stack.api}/builds?status=CREATING`, {
          headers: { "X-Auth-Token": NO_VM_USER.token },
        });
        return ((await res.json()) as { builds: unknown[] }).builds.length === 0;
      },
      30_000,
    );

    await page.getByLabel("API token").fill(NO_VM_USER.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Your builds" }).waitFor();
    await page.locator(`[data-build-id="${ids.at(-1)}"]`).waitFor();
    // Newest first, one page of 20.
    const firstPage = await page
      .locator(".build-row")
      .evaluateAll((rows) => rows.map((r) => r.dataset.buildId));
    assert.deepEqual(firstPage, ids.slice(3).reverse().map(String));
    await page.getByRole("button", { name: "Load older builds" }).click();
    await page.locator(`[data-build-id="${ids[0]}"]`).waitFor();
    assert.equal(await page.locator(".build-row").count(), 23);
    assert.equal(
      await page.getByRole("button", { name: "Load older builds" }).count(),
      0,
      "no page after the last",
    );
    // Keyboard focus lands on the first build of the new page.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "quota-03");
    await screenshot(page, "list-errors-desktop");

    await page.getByRole("link", { name: "quota-03" }).click();
    const card = page.getByRole("region", { name: "What went wrong" });
    await card.waitFor();
    const shown = text(await card.textContent());
    assert.match(shown, /quota of .* is exhausted; free some or ask for more/i, "the hint");
    assert.match(shown, /quota_exceeded/, "the error code");
    assert.match(text(await page.locator(".status-card").textContent()), /Failed at “Start agent VM”/);
    await screenshot(page, "detail-error-desktop");
    await page.setViewportSize(PHONE);
    await screenshot(page, "detail-error-phone");
    await page.setViewportSize(DESKTOP);
  });
});
