"""put_object, get_object and a presigned GET URL with boto3 (Debian python3-boto3).

Usage: boto3_roundtrip.py ENDPOINT BUCKET KEY FILE   (credentials from AWS_* in the environment)
Prints the presigned URL on stdout; exits 1 if the object read back differs.
"""
import sys

import boto3
from botocore.config import Config

endpoint, bucket, key, path = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
data = open(path, "rb").read()
s3.put_object(Bucket=bucket, Key=key, Body=data)
got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
if got != data:
    sys.exit(f"read back {len(got)} bytes, wrote {len(data)}")
print(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600))
