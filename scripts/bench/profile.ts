/**
 * Profile ours under `bun --cpu-prof`; prints where the markdown profile landed and its top
 * functions (and writes those to `--out FILE`, for bench/profiles/).
 *
 *   bun scripts/bench/profile.ts [rangeBytes=65536] [seconds=10] [connections=32] [auth] [info] [miss] [no-cache] [--out FILE]
 *
 * By default wrk hammers one cached range (the hit path). With `miss`, one client reads
 * `seconds × 300` distinct ranges of that size one after another, each a block not read
 * before (the miss path; `no-cache` runs ours with `--no-cache`, the forwarding path alone).
 * With `auth`, ours runs with `--auth sigv4` and wrk sends a header-signed request. With
 * `info`, ours logs at `--log-level info` (its access log goes to a file beside the profile).
 */
import { mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { objectBytes, putObject } from "./config.ts";
import { signedGetHeaders } from "./client-signing.ts";
import { AUTH_FLAGS, startBackend } from "./peers.ts";
import { cleanEnv, freePort, stopProcess, waitForHttp } from "./processes.ts";
import { runWrk } from "./wrk.ts";

const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt === -1 ? undefined : args.splice(outAt, 2)[1];
const words = ["auth", "info", "miss", "no-cache"];
const [auth, info, miss, noCache] = words.map((w) => args.includes(w));
const [size = 65536, seconds = 10, connections = 32] = args.filter((a) => !words.includes(a)).map(Number);
const dir = mkdtempSync(join(tmpdir(), "s3proxy-profile-"));
const backend = await startBackend();
// Misses read one range per 256 KiB block (the default block size), each block once.
const STRIDE = 256 * 1024;
const misses = seconds! * 300;
await putObject(backend, "profile/object.bin", objectBytes(miss ? misses * STRIDE : 8 * size));
const port = freePort();
const proc = Bun.spawn(
  [
    "bun",
    "--cpu-prof",
    "--cpu-prof-md",
    `--cpu-prof-dir=${dir}`,
    join(import.meta.dir, "profiled-main.ts"),
    "--endpoint",
    backend.endpoint,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--log-level",
    info ? "info" : "warn",
    ...(auth ? AUTH_FLAGS : ["--auth", "none"]),
    ...(noCache ? ["--no-cache"] : []),
  ],
  {
    cwd: join(import.meta.dir, "..", ".."),
    stdout: "inherit",
    stderr: info ? openSync(join(dir, "stderr.log"), "w") : "inherit",
    env: cleanEnv({ AWS_ACCESS_KEY_ID: backend.accessKeyId, AWS_SECRET_ACCESS_KEY: backend.secretAccessKey }),
  },
);
try {
  const url = `http://127.0.0.1:${port}/${backend.bucket}/profile/object.bin`;
  await waitForHttp(url);
  if (miss) {
    const started = performance.now();
    for (let i = 0; i < misses; i++) {
      const range = `bytes=${i * STRIDE}-${i * STRIDE + size - 1}`;
      await (await fetch(url, { headers: auth ? await signedGetHeaders(url, range) : { range } })).arrayBuffer();
    }
    console.log(`misses: ${misses}, ${((performance.now() - started) / misses).toFixed(2)} ms each`);
  } else {
    const range = `bytes=0-${size - 1}`;
    const headers = auth ? await signedGetHeaders(url, range) : { range };
    for (let i = 0; i < 2; i++) await (await fetch(url, { headers })).arrayBuffer();
    const r = await runWrk({ url, connections, durationSec: seconds!, headers });
    console.log(`wrk: ${r.requestsPerSec.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}`);
  }
} finally {
  await stopProcess(proc);
  await backend.stop();
}
for (const file of readdirSync(dir)) {
  console.log(`profile: ${join(dir, file)}`);
  if (!file.endsWith(".md")) continue;
  const text = readFileSync(join(dir, file), "utf8");
  const top = text.split("\n").slice(0, 100).join("\n");
  console.log(top);
  // The summary and the hottest functions: the rest of Bun's profile is call trees, large and machine-specific.
  if (out) writeFileSync(out, `${top}\n`);
}
