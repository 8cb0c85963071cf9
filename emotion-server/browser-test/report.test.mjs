// The CLI's `--report FILE.html` opened from disk in headless Chromium (playwright-core, as the
// webcam page test): a video report (one timeline per person, thumbnails that load, scene cuts
// marked, hovering shows the values at that time) and a folder report (gallery with boxes, a
// damaged file listed, click to enlarge), with no console errors and no network requests.
// Screenshots go to $OUT (default: target/browser-test).
//
// Needs: target/release/emotion (scripts/test-browser.sh builds it), ffmpeg, /usr/bin/chromium
// (or $CHROMIUM).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, readFileSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

// The repository root: the first folder above this one with a Cargo.lock.
let root = dirname(fileURLToPath(import.meta.url));
while (!existsSync(`${root}/Cargo.lock`) && dirname(root) !== root) root = dirname(root);
const out = resolve(process.env.OUT || `${root}/target/browser-test`);
const cli = `${root}/target/release/emotion`;
const grid = `${root}/tests/data/astronaut-grid.png`;
const portrait = `${root}/examples/data/astronaut.png`;
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

let browser;

before(async () => {
  mkdirSync(out, { recursive: true });
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
});

after(async () => {
  await browser?.close();
});

// Opens a report; collects console errors, page errors and any request that is not the file
// itself or inline data.
async function open(path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) problems.push(`request: ${r.url()}`); });
  await page.goto(pathToFileURL(path).href);
  return { page, problems };
}

function reportData(path) {
  const html = readFileSync(path, "utf8");
  const m = html.match(/<script id="data" type="application\/json">([\s\S]*?)<\/script>/);
  return JSON.parse(m[1]);
}

test("a video report: a timeline per person, thumbnails, cuts, values on hover", async () => {
  const dir = `${out}/report-video`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // 2 s of the 4-face grid, then a cut to 2 s of the portrait on white: new tracks after the cut.
  const clip = `${dir}/cut.mp4`;
  execFileSync("ffmpeg", ["-v", "error", "-y", "-loop", "1", "-t", "2", "-i", grid, "-loop", "1", "-t", "2", "-i", portrait,
    "-filter_complex", "[0:v]scale=768:320,setsar=1,fps=10[a];[1:v]scale=320:320,pad=768:320:224:0:white,setsar=1,fps=10[b];[a][b]concat=n=2:v=1,format=yuv420p[v]",
    "-map", "[v]", "-c:v", "libx264", "-crf", "14", clip]);
  const report = `${dir}/video.html`;
  const run = spawnSync(cli, [clip, "--report", report], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 40);
  const ids = [...new Set(lines.flatMap((l) => l.faces.map((f) => f.track_id)))].sort((a, b) => a - b);
  assert.ok(ids.length >= 2, `tracks ${ids}`);

  const data = reportData(report);
  const video = data.videos[0];
  assert.deepEqual(video.tracks.map((t) => t.id), ids);
  assert.equal(video.frames, 40);
  assert.ok(video.cut_count >= 1, "the cut at 2 s is marked");
  assert.ok(video.cuts.every((c) => c >= 1900 && c <= 2100), `cuts at ${video.cuts}`);

  const { page, problems } = await open(report);
  assert.equal(await page.locator(".timeline").count(), ids.length, "one timeline per track");
  assert.equal(await page.locator(".track-row").count(), ids.length, "one summary row per track");
  assert.equal(await page.locator(".timeline .cut").count(), ids.length * video.cuts.length);
  // Every thumbnail decoded.
  const thumbs = await page.locator("img.thumb").evaluateAll((imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0));
  assert.equal(thumbs.length, 2 * ids.length);
  assert.ok(thumbs.every(Boolean), `thumbnails ${thumbs}`);
  // Hover a quarter of the way along the first person's timeline: the values of that time.
  const chart = page.locator(".timeline svg.chart").first();
  const b = await chart.boundingBox();
  await page.mouse.move(b.x + b.width * 0.25, b.y + b.height / 2);
  const tip = page.locator("#tip");
  await tip.waitFor({ state: "visible" });
  const [text, bucket, track] = await tip.evaluate((t) => [t.textContent, Number(t.dataset.bucket), Number(t.dataset.track)]);
  assert.equal(track, ids[0]);
  assert.ok(bucket >= 0, text);
  const t0 = video.tracks[0];
  assert.ok(text.includes(`valence ${(t0.v[bucket] / 1000).toFixed(2)} `), text);
  assert.ok(text.includes(`arousal ${(t0.a[bucket] / 1000).toFixed(2)} `), text);
  // The bucket under the pointer is at a quarter of the time axis.
  const at = (t0.k[bucket] + 0.5) * video.bucket_ms / (video.duration_ms + video.bucket_ms);
  assert.ok(Math.abs(at - 0.25) < 0.05, `bucket at ${at}`);
  assert.equal(await page.locator(".cursor[visibility=visible]").count(), ids.length, "the time cursor on every timeline");
  await page.screenshot({ path: `${out}/report-video.png`, fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("a folder report: gallery with boxes, damaged file listed, click to enlarge", async () => {
  const dir = `${out}/report-folder`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/photos`, { recursive: true });
  copyFileSync(grid, `${dir}/photos/a-grid.png`);
  copyFileSync(`${root}/tests/data/chelsea.png`, `${dir}/photos/b-cat.png`);
  writeFileSync(`${dir}/photos/c-damaged.png`, readFileSync(portrait).subarray(0, 3000));
  const report = `${dir}/folder.html`;
  const run = spawnSync(cli, [`${dir}/photos`, "--report", report, "--format", "csv"], { encoding: "utf8" });
  assert.equal(run.status, 1, "a damaged file makes the exit code 1, as without --report");
  assert.match(run.stderr, /c-damaged\.png/);
  const data = reportData(report);
  assert.equal(data.images.length, 2);
  assert.equal(data.failures.length, 1);

  const { page, problems } = await open(report);
  const failures = page.locator("#failures li.failure");
  assert.equal(await failures.count(), 1);
  assert.match(await failures.first().textContent(), /c-damaged\.png/);
  assert.equal(await page.locator(".gallery figure").count(), 2);
  assert.equal(await page.locator('.gallery figure[data-index="0"] rect').count(), 4, "the grid's 4 faces boxed");
  assert.equal(await page.locator('.gallery figure[data-index="1"] rect').count(), 0);
  const loaded = await page.locator(".gallery img").evaluateAll((imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0));
  assert.deepEqual(loaded, [true, true]);
  assert.equal(await page.locator("svg.scatter circle.point").count(), 4);
  assert.equal(await page.locator("table.faces tbody tr").count(), 4);
  await page.locator('.gallery figure[data-index="0"]').click();
  const lightbox = page.locator("#lightbox");
  await lightbox.waitFor({ state: "visible" });
  assert.equal(await lightbox.locator("rect").count(), 4);
  const big = await lightbox.locator("img").boundingBox();
  const small = await page.locator('.gallery figure[data-index="0"] img').boundingBox();
  assert.ok(big.width > 2 * small.width, `enlarged ${big.width} vs ${small.width}`);
  await page.screenshot({ path: `${out}/report-folder-enlarged.png` });
  await lightbox.click();
  await lightbox.waitFor({ state: "hidden" });
  await page.screenshot({ path: `${out}/report-folder.png`, fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
