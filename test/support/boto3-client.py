"""Drive boto3 (Debian's python3-boto3) against one endpoint and print what it saw as JSON.

argv: endpoint bucket. Keys and credentials come from the environment. Every result is
reduced to plain data (sizes, hashes, ETags) so the caller can compare two endpoints.
"""
import hashlib
import io
import json
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
key = "boto3/with space+plus%/ünï.bin"
body = bytes((i * 7 + 3) % 251 for i in range(100_000))
out = {}

put = s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-boto", Metadata={"from": "boto3"})
out["put_etag"] = put["ETag"]

got = s3.get_object(Bucket=bucket, Key=key)
data = got["Body"].read()
out["get"] = {"sha256": hashlib.sha256(data).hexdigest(), "length": got["ContentLength"], "etag": got["ETag"], "type": got["ContentType"], "meta": got["Metadata"]}
out["body_sha256"] = hashlib.sha256(body).hexdigest()

ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=100-199")
out["range"] = {"status": ranged["ResponseMetadata"]["HTTPStatusCode"], "content_range": ranged["ContentRange"], "ok": ranged["Body"].read() == body[100:200]}

head = s3.head_object(Bucket=bucket, Key=key)
out["head"] = {"length": head["ContentLength"], "etag": head["ETag"], "type": head["ContentType"], "meta": head["Metadata"]}

big = bytes((i * 13 + 5) % 256 for i in range(11 * 1024 * 1024))
s3.upload_fileobj(io.BytesIO(big), bucket, "boto3/multipart.bin", Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=2))
out["multipart"] = {"sha256": hashlib.sha256(s3.get_object(Bucket=bucket, Key="boto3/multipart.bin")["Body"].read()).hexdigest(), "expected": hashlib.sha256(big).hexdigest()}

listed = s3.list_objects_v2(Bucket=bucket, Prefix="boto3/")
out["list"] = sorted([o["Key"], o["Size"], o["ETag"]] for o in listed.get("Contents", []))

out["presigned"] = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
json.dump(out, sys.stdout)
