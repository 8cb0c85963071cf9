// The webcam page in a real browser: Debian's Chromium, headless, driven by playwright-core, with
// a fake camera playing a clip made from a photo. The page must show the top expression the
// library gives for that photo and its valence/arousal marker; a dropped photo must show exactly
// the library's answer. Screenshots go to $OUT (default: target/browser-test).
//
// Needs: target/release/emotion-server and target/release/examples/y4m (scripts/test-browser.sh
// builds them), /usr/bin/chromium (or $CHROMIUM).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const out = resolve(process.env.OUT || `${root}/target/browser-test`);
const photo = `${root}/examples/data/astronaut.png`;
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

let server, base, browser, expected;

before(async () => {
  mkdirSync(out, { recursive: true });
  const clip = `${out}/clip.y4m`;
  execFileSync(`${root}/target/release/examples/y4m`, [photo, clip, "10"]);
  server = spawn(`${root}/target/release/emotion-server`, ["--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  base = await new Promise((ok, fail) => {
    let err = "";
    server.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/[^\s]+?)\/?\s/);
      if (m) ok(m[1]);
    });
    server.on("exit", (code) => fail(new Error(`server exited (${code}): ${err}`)));
  });
  // What the library answers for the photo (through the API, which the Rust tests hold equal to
  // the library).
  const r = await fetch(`${base}/v1/analyze`, { method: "POST", headers: { "content-type": "image/png" }, body: readFileSync(photo) });
  expected = await r.json();
  assert.equal(expected.faces.length, 1, "the photo has one face");
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
      `--use-file-for-fake-video-capture=${clip}`,
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

// What a person sees, not only the DOM: the top expression's bar is filled to its probability,
// and the valence/arousal plane's labels and marker lie inside the plane.
async function assertDrawn(page, want) {
  // One snapshot of the layout, taken in the page: frames keep arriving and redraw the SVG, so
  // elements found one call earlier may already be replaced.
  const layout = await page.evaluate((expression) => {
    const box = (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; };
    const bar = document.querySelector(`#faces .face[data-index="0"] .bar[data-expression="${expression}"]`);
    return {
      track: bar && box(bar.querySelector(".track")),
      fill: bar && box(bar.querySelector(".fill")),
      plane: box(document.querySelector("#plane")),
      items: [...document.querySelectorAll("#plane text, #trails .va-marker")].map((e) => ({ html: e.outerHTML, box: box(e) })),
    };
  }, want.expression);
  const { track, fill, plane } = layout;
  const p = want.probabilities[want.expression];
  assert.ok(track && fill && Math.abs(fill.width / track.width - p) < 0.05, `bar ${fill?.width} of ${track?.width} for p = ${p}`);
  const inside = (b) => b.x >= plane.x - 1 && b.y >= plane.y - 1 && b.x + b.width <= plane.x + plane.width + 1 && b.y + b.height <= plane.y + plane.height + 1;
  assert.ok(layout.items.length > 0, "nothing drawn in the plane");
  for (const { html, box } of layout.items) {
    assert.ok(inside(box), `${html} at ${JSON.stringify(box)} is outside the plane ${JSON.stringify(plane)}`);
  }
}

test("the webcam page shows the face's expression and valence/arousal marker", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/?camera=1`);
  const card = page.locator('#faces .face[data-index="0"]');
  await card.waitFor({ timeout: 30_000 });
  const want = expected.faces[0];
  assert.equal(await card.getAttribute("data-expression"), want.expression);
  assert.equal(await card.locator(".expression").textContent(), want.expression);
  assert.equal(await card.locator(".bar").count(), 8);
  const marker = page.locator('#trails .va-marker[data-index="0"]');
  assert.equal(await marker.count(), 1);
  // The camera frame went through YUV 4:2:0, downscaling and JPEG: close to the photo's answer.
  // One read of all four attributes: frames keep arriving and move the (smoothed) marker.
  const [v, a, cx, cy] = (await marker.evaluate((m) => ["data-valence", "data-arousal", "cx", "cy"].map((k) => m.getAttribute(k)))).map(Number);
  assert.ok(Math.abs(v - want.valence) < 0.2, `valence ${v} vs ${want.valence}`);
  assert.ok(Math.abs(a - want.arousal) < 0.2, `arousal ${a} vs ${want.arousal}`);
  assert.equal(cx, v);
  assert.equal(cy, -a);
  await assertDrawn(page, want);
  // Frames keep coming: the trail grows.
  await page.waitForFunction(() => (document.querySelector("#trails polyline")?.getAttribute("points") || "").split(" ").length >= 3, null, { timeout: 30_000 });
  await page.screenshot({ path: `${out}/webcam.png` });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a photo given to the page shows the library's answer", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(base);
  await page.setInputFiles("#file", photo);
  await page.locator("#status", { hasText: "astronaut.png: 1 face(s)" }).waitFor({ timeout: 30_000 });
  const want = expected.faces[0];
  assert.equal(await page.locator('#faces .face[data-index="0"]').getAttribute("data-expression"), want.expression);
  const marker = page.locator('#trails .va-marker[data-index="0"]');
  assert.equal(Number(await marker.getAttribute("data-valence")), want.valence);
  assert.equal(Number(await marker.getAttribute("data-arousal")), want.arousal);
  await assertDrawn(page, want);
  await page.screenshot({ path: `${out}/photo.png` });
  await page.close();
});
