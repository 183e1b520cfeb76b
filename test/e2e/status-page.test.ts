/**
 * The status page in a real browser (Debian's headless Chromium, driven by playwright-core):
 * the figures it shows match /metrics, and they refresh by themselves as traffic arrives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { chromium, type Browser, type Page } from "playwright-core";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes } from "../support/clients.ts";
import { fillsSettled, metricValue, scrape, type Sample } from "../support/prometheus.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

/** The browser's document as used inside page.evaluate (the suite compiles without the DOM library). */
interface Node {
  textContent: string | null;
  querySelectorAll(selector: string): Iterable<Node>;
}
declare const document: Node & { body: { dataset: Record<string, string | undefined> }; getElementById(id: string): Node | null };

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = process.env.S3PROXY_STATUS_SCREENSHOT;

let backend: Backend;
let proxy: TestProxy;
let s3: S3Client;
let browser: Browser;

async function read(key: string, range: string): Promise<void> {
  const out = await s3.send(new GetObjectCommand({ Bucket: backend.bucket, Key: key, Range: range }));
  await out.Body!.transformToByteArray();
}

beforeAll(async () => {
  backend = await startBackend();
  proxy = await startTestProxy(backend, { "cache-size": "16MiB", "block-size": "256KiB", prefetch: false });
  // Without checksum mode, which the cache leaves to the backend.
  s3 = new S3Client({ endpoint: proxy.endpoint, region: backend.region, forcePathStyle: true, credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey }, responseChecksumValidation: "WHEN_REQUIRED" });
  for (const key of ["sales/2026.parquet", "logs/app.log"]) await s3.send(new PutObjectCommand({ Bucket: backend.bucket, Key: key, Body: randomBytes(1024 ** 2, key.length) }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  s3.destroy();
  await proxy.stop();
  await backend.stop();
});

/** Wait until the page has redrawn after `after` updates, then read what it shows. */
async function shown(page: Page, after: number) {
  await page.waitForFunction((n) => Number(document.body.dataset.updates ?? 0) > n, after);
  return page.evaluate(() => {
    const text = (id: string) => document.getElementById(id)!.textContent!.trim();
    return {
      updates: Number(document.body.dataset.updates),
      hitRatio: text("hit-ratio"),
      bytesSaved: text("bytes-saved"),
      bytesSavedExact: text("bytes-saved-exact"),
      requests: text("requests-total"),
      rate: text("request-rate"),
      cacheUsed: text("cache-used"),
      top: [...document.querySelectorAll("#top-objects tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim())),
    };
  });
}

function expectMatches(page: Awaited<ReturnType<typeof shown>>, m: Sample[]) {
  const hits = metricValue(m, "s3proxy_cache_requests_total", { result: "hit" });
  const lookups = metricValue(m, "s3proxy_cache_requests_total");
  expect(page.hitRatio).toBe(`${((hits / lookups) * 100).toFixed(1)} %`);
  expect(Number(page.bytesSavedExact.replaceAll(",", ""))).toBe(metricValue(m, "s3proxy_bytes_from_cache_total"));
  expect(Number(page.requests.replaceAll(",", ""))).toBe(metricValue(m, "s3proxy_requests_total"));
}

describe("status page in headless Chromium", () => {
  test("shows the hit ratio, bytes saved, requests and top objects that /metrics reports, and refreshes itself", async () => {
    await read("sales/2026.parquet", "bytes=0-65535"); // miss
    await fillsSettled(proxy.endpoint);
    for (let i = 0; i < 3; i++) await read("sales/2026.parquet", "bytes=0-65535"); // 3 hits
    await read("logs/app.log", "bytes=1000-1999"); // miss
    await fillsSettled(proxy.endpoint);
    await read("logs/app.log", "bytes=1000-1999"); // hit

    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    await page.goto(`${proxy.endpoint}/_s3proxy/status?interval=100`);
    const m0 = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    // The page refreshes on its own: wait for the redraw that has caught up with this scrape.
    let first = await shown(page, 0);
    while (Number(first.requests.replaceAll(",", "")) < metricValue(m0, "s3proxy_requests_total")) first = await shown(page, first.updates);
    expectMatches(first, m0);
    expect(first.hitRatio).toBe("66.7 %"); // 4 hits of 6 lookups
    expect(first.bytesSaved).toBe("193.0 KiB"); // 3 × 64 KiB + 1000 bytes
    expect(first.top).toEqual([
      [`${backend.bucket}/sales/2026.parquet`, "3"],
      [`${backend.bucket}/logs/app.log`, "1"],
    ]);
    expect(first.cacheUsed).toBe("512.0 KiB of 16.0 MiB");

    // More traffic: the page picks it up on its own.
    for (let i = 0; i < 4; i++) await read("logs/app.log", "bytes=1000-1999");
    const m = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    let later = await shown(page, first.updates);
    while (Number(later.requests.replaceAll(",", "")) < metricValue(m, "s3proxy_requests_total")) later = await shown(page, later.updates);
    expectMatches(later, m);
    expect(later.hitRatio).toBe("80.0 %"); // 8 hits of 10 lookups
    expect(later.top[0]).toEqual([`${backend.bucket}/logs/app.log`, "5"]);
    expect(later.rate).toMatch(/^\d+\.\d req\/s$/);

    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  }, 30_000);

  test("object keys are shown as text, never interpreted as HTML", async () => {
    const key = '<img src=x onerror="document.body.dataset.pwned=1">.csv';
    await s3.send(new PutObjectCommand({ Bucket: backend.bucket, Key: key, Body: "a,b\n" }));
    await read(key, "bytes=0-1");
    await read(key, "bytes=0-1");
    const page = await browser.newPage();
    await page.goto(`${proxy.endpoint}/_s3proxy/status?interval=100`);
    const view = await shown(page, 0);
    expect(view.top.some(([object]) => object === `${backend.bucket}/${key}`)).toBe(true);
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    await page.close();
  }, 30_000);
});
