"""Recompute SigV4 signatures with botocore (an independent signer) for recorded requests.

Reads one JSON list per stdin line, each item {method, target, host, headers: {name: value},
signedHeaders, amzDate, region, accessKeyId, secretAccessKey, sessionToken?}, and answers one
JSON list per stdout line of {signature, canonicalRequest}; one process serves a whole suite. Only the headers the request says it signed are given to
botocore, so botocore's canonical request is built from exactly what went over the wire.
"""
import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(r):
    headers = {k: v for k, v in r["headers"].items() if k in r["signedHeaders"]}
    request = AWSRequest(method=r["method"], url="http://" + r["host"] + r["target"], headers=headers)
    request.context["timestamp"] = r["amzDate"]
    auth = S3SigV4Auth(Credentials(r["accessKeyId"], r["secretAccessKey"], r.get("sessionToken")), "s3", r["region"])
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    return {"signature": auth.signature(string_to_sign, request), "canonicalRequest": canonical}


for line in sys.stdin:
    print(json.dumps([sign(r) for r in json.loads(line)]), flush=True)
