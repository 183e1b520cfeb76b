/** `bun run build`: this machine's binary at dist/s3proxy, compiled exactly as the release compiles it. */
import { join } from "node:path";
import { buildInfo, compile, ROOT, TARGETS } from "./release-targets.ts";

const host = `${process.platform}-${process.arch}`;
const target = TARGETS.find((t) => t.name === host);
if (!target) throw new Error(`no release target for ${host}`);
const outfile = join(ROOT, "dist", "s3proxy");
await compile(target, outfile, await buildInfo());
console.log(`dist/s3proxy (${host})`);
