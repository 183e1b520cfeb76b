/**
 * The backend as a child process: the embedded s3rver of the test suites, so its CPU is not
 * the bench's. Prints the backend's coordinates as one JSON line; removes its data on SIGTERM.
 */
import { startBackend } from "../../test/support/backend.ts";

const backend = await startBackend(["bench"]);
const { stop, ...info } = backend;
console.log(JSON.stringify(info));
process.on("SIGTERM", async () => {
  await stop();
  process.exit(0);
});
