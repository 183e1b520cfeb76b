/**
 * src/main.ts with a SIGTERM that exits normally, so `bun --cpu-prof` gets to write its
 * profile (it does so on exit; a plain SIGTERM kills the process first). Used by profile.ts.
 */
process.on("SIGTERM", () => process.exit(0));
await import("../../src/main.ts");
