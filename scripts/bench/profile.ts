/**
 * Profile ours' cache-hit path: wrk hammers one cached range while ours runs under
 * `bun --cpu-prof`; prints where the markdown profile landed and its top functions.
 *
 *   bun scripts/bench/profile.ts [rangeBytes=65536] [seconds=10] [connections=32] [auth] [info]
 *
 * With `auth`, ours runs with `--auth sigv4` and wrk sends a header-signed request. With
 * `info`, ours logs at `--log-level info` (its access log goes to a file beside the profile).
 */
import { mkdtempSync, openSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { objectBytes, putObject } from "./config.ts";
import { signedGetHeaders } from "./client-signing.ts";
import { AUTH_FLAGS, startBackend } from "./peers.ts";
import { cleanEnv, freePort, stopProcess, waitForHttp } from "./processes.ts";
import { runWrk } from "./wrk.ts";

const args = process.argv.slice(2);
const auth = args.includes("auth");
const info = args.includes("info");
const [size = 65536, seconds = 10, connections = 32] = args.filter((a) => a !== "auth" && a !== "info").map(Number);
const dir = mkdtempSync(join(tmpdir(), "s3proxy-profile-"));
const backend = await startBackend();
await putObject(backend, "profile/object.bin", objectBytes(8 * size));
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
  const range = `bytes=0-${size - 1}`;
  const headers = auth ? await signedGetHeaders(url, range) : { range };
  for (let i = 0; i < 2; i++) await (await fetch(url, { headers })).arrayBuffer();
  const r = await runWrk({ url, connections, durationSec: seconds!, headers });
  console.log(`wrk: ${r.requestsPerSec.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}`);
} finally {
  await stopProcess(proc);
  await backend.stop();
}
for (const file of readdirSync(dir)) {
  console.log(`profile: ${join(dir, file)}`);
  if (file.endsWith(".md")) console.log(readFileSync(join(dir, file), "utf8").split("\n").slice(0, 80).join("\n"));
}
