"""Send a fixed set of SigV4-signed requests with botocore (Debian python3-boto3) to an endpoint.

Usage: boto3_requests.py ENDPOINT ACCESS_KEY SECRET BUCKET
Awkward keys, an empty query value and a repeated query name, a literal-SHA-256 body and a
presigned URL, so the server side can check its canonicalisation against botocore's.
"""
import sys
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config

endpoint, access_key, secret, bucket = sys.argv[1:5]
KEYS = ["with space.txt", "ünïcødé/日本.txt", "a+b=c~d.txt", "dir//double.txt", "(paren)!*'.txt"]

s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=access_key,
    aws_secret_access_key=secret,
    region_name="us-east-1",
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)

def quietly(call):
    try:
        call()
    except Exception as e:  # the server's answer does not matter, only the request it saw
        print("ignored:", type(e).__name__, file=sys.stderr)

for key in KEYS:
    quietly(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"hello " + key.encode()))
quietly(lambda: s3.get_object(Bucket=bucket, Key=KEYS[1], Range="bytes=0-4"))
quietly(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=""))
quietly(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="a b+c/ü", Delimiter="/"))

# Repeated names and empty values are not produced by any S3 operation model: sign by hand.
creds = botocore.credentials.Credentials(access_key, secret)
raw = botocore.awsrequest.AWSRequest(method="GET", url=f"{endpoint}/{bucket}?tagging=&x=2&x=1&empty=&sp=a%20b")
botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(raw)
prepared = raw.prepare()
quietly(lambda: urllib.request.urlopen(urllib.request.Request(prepared.url, headers=dict(prepared.headers), method="GET")))

url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": KEYS[1]}, ExpiresIn=600)
quietly(lambda: urllib.request.urlopen(url))
