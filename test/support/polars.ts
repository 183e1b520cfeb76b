/** nodejs-polars (Rust object_store) reading Parquet through an S3 endpoint. */
import pl from "nodejs-polars";
import type { ClientCredentials } from "./credentialed-clients.ts";

/** A small Parquet file: ids 0..rows-1 and their squares. */
export function parquetBytes(rows: number): Uint8Array {
  const ids = Array.from({ length: rows }, (_, i) => i);
  return new Uint8Array(pl.DataFrame({ id: ids, square: ids.map((i) => i * i) }).writeParquet());
}

/** Sum of the `square` column, read by scanParquet over S3. */
export async function polarsSumOfSquares(endpoint: string, c: ClientCredentials, bucket: string, key: string): Promise<number> {
  const cloudOptions: Record<string, string> = {
    aws_endpoint_url: endpoint,
    aws_access_key_id: c.accessKeyId,
    aws_secret_access_key: c.secretAccessKey,
    aws_region: "us-east-1",
    aws_allow_http: "true",
    aws_virtual_hosted_style_request: "false",
  };
  if (c.sessionToken) cloudOptions.aws_session_token = c.sessionToken;
  const df = await pl.scanParquet(`s3://${bucket}/${key}`, { cloudOptions }).select(pl.col("square").sum()).collect();
  return Number(df.getColumn("square").get(0));
}
