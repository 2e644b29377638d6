#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# Mints a JWT for the tests, the way an application backend would:
#   jwt-mint.py ALG KEY PAYLOAD [HEADER]
# ALG is HS256 (KEY: file whose first line is the secret), RS256 or ES256
# (KEY: PEM private key, signed with the openssl command), or "none".
# PAYLOAD and HEADER are JSON texts; HEADER defaults to {"alg":ALG,"typ":"JWT"}.
import base64, hashlib, hmac, subprocess, sys

def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

def der_to_raw(der):
    # ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0")
        i += 2 + n
    return out

alg, key, payload = sys.argv[1], sys.argv[2], sys.argv[3]
header = sys.argv[4] if len(sys.argv) > 4 else '{"alg":"%s","typ":"JWT"}' % alg
signing = (b64(header.encode()) + "." + b64(payload.encode())).encode()
if alg == "HS256":
    secret = open(key, "rb").read().split(b"\n")[0].rstrip()
    sig = hmac.new(secret, signing, hashlib.sha256).digest()
elif alg in ("RS256", "ES256"):
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=signing, capture_output=True, check=True).stdout
    if alg == "ES256":
        sig = der_to_raw(sig)
else:
    sig = b""
print(signing.decode() + "." + b64(sig))
