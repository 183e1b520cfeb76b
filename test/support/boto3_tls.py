"""boto3 over HTTPS with the CA handed over as verify=<file>: the core operations, and a
PutObject with a CRC32 checksum (which botocore frames as STREAMING-UNSIGNED-PAYLOAD-TRAILER
only over https). Prints plain data as JSON, including the payload-hash header of every PUT.

argv: endpoint bucket ca_file. Credentials come from the environment.
"""
import hashlib
import json
import sys

import boto3
from botocore.config import Config

endpoint, bucket, ca_file = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, verify=ca_file, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
payload_hashes = []
s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: payload_hashes.append(request.headers["x-amz-content-sha256"].decode()))

key = "boto3-tls/plain.bin"
body = bytes((i * 7 + 3) % 251 for i in range(300_000))
out = {"body_sha256": hashlib.sha256(body).hexdigest()}
out["put_etag"] = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]
out["get_sha256"] = hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=1000-1999")
out["range"] = {"content_range": ranged["ContentRange"], "ok": ranged["Body"].read() == body[1000:2000]}
out["head_length"] = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
s3.put_object(Bucket=bucket, Key="boto3-tls/crc32.bin", Body=body, ChecksumAlgorithm="CRC32")
out["list"] = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="boto3-tls/")["Contents"])
s3.delete_object(Bucket=bucket, Key=key)
out["after_delete"] = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="boto3-tls/")["Contents"])
out["payload_hashes"] = payload_hashes
json.dump(out, sys.stdout)
