#!/usr/bin/env bun
/** Entry point: the only place that reads process.argv and process.env. */
import { main } from "./cli.ts";

main(process.argv.slice(2), process.env).catch((err) => {
  process.stderr.write(`s3proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
