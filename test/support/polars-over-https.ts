/**
 * Run as its own process (`bun test/support/polars-over-https.ts endpoint bucket key`):
 * nodejs-polars reads its CA from SSL_CERT_FILE when its first client is built, so a test
 * hands it the CA through the environment of a fresh process. Prints the sum of `square`.
 */
import { polarsSumOfSquares } from "./polars.ts";

const [endpoint, bucket, key] = process.argv.slice(2);
console.log(await polarsSumOfSquares(endpoint!, { accessKeyId: "any", secretAccessKey: "any" }, bucket!, key!));
