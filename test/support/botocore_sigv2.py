"""Drive botocore's own SigV2 signers (Debian python3-boto3) against an endpoint; print JSON.

argv: endpoint bucket key. Credentials from the environment. Header auth goes through a
client configured with signature_version="s3" (HmacV1Auth); the presigned URLs come from a
client with botocore's default configuration, which presigns with SigV2 (HmacV1QueryAuth)
in us-east-1.
"""
import json
import sys

import boto3
from botocore.config import Config

endpoint, bucket, key = sys.argv[1:4]
path = {"addressing_style": "path"}
v2 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(signature_version="s3", s3=path, retries={"max_attempts": 1}))
default = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(s3=path))
out = {}

body = b"signed with SigV2 by botocore"
put = v2.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/x-sigv2", Metadata={"signer": "hmacv1"})
out["put_status"] = put["ResponseMetadata"]["HTTPStatusCode"]
got = v2.get_object(Bucket=bucket, Key=key, Range="bytes=0-5")
out["get"] = {"status": got["ResponseMetadata"]["HTTPStatusCode"], "body": got["Body"].read().decode(), "meta": got["Metadata"]}
out["list_keys"] = [o["Key"] for o in v2.list_objects(Bucket=bucket, Prefix="sigv2/").get("Contents", [])]

out["presigned_get"] = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
out["presigned_get_override"] = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": "application/x-override"}, ExpiresIn=300)
out["presigned_expired"] = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-60)
out["presigned_put"] = default.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key + ".put"}, ExpiresIn=300)
json.dump(out, sys.stdout)
