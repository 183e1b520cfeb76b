"""Recompute SigV4 signatures with botocore (an independent signer) for recorded requests.

stdin: JSON list of {method, target, host, headers: {name: value}, signedHeaders, amzDate,
region, accessKeyId, secretAccessKey, sessionToken?}. stdout: JSON list of
{signature, canonicalRequest}. Only the headers the request says it signed are given to
botocore, so botocore's canonical request is built from exactly what went over the wire.
"""
import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for r in json.load(sys.stdin):
    headers = {k: v for k, v in r["headers"].items() if k in r["signedHeaders"]}
    request = AWSRequest(method=r["method"], url="http://" + r["host"] + r["target"], headers=headers)
    request.context["timestamp"] = r["amzDate"]
    auth = S3SigV4Auth(Credentials(r["accessKeyId"], r["secretAccessKey"], r.get("sessionToken")), "s3", r["region"])
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    out.append({"signature": auth.signature(string_to_sign, request), "canonicalRequest": canonical})
json.dump(out, sys.stdout)
