"""Makes the keys and tokens of AuthTest with PyJWT (Debian python3-jwt), a JOSE implementation other
than the proxy's: writes jwks.json (public keys), rotated-jwks.json (another RSA key) and one
<name>.jwt file per token into the folder given as argv[1]."""
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

out = sys.argv[1]
now = int(time.time())
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rotated_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_key = ec.generate_private_key(ec.SECP256R1())
ed_key = ed25519.Ed25519PrivateKey.generate()


def jwk(alg, key, kid):
    d = json.loads(alg.to_jwk(key.public_key()))
    d["kid"] = kid
    d["use"] = "sig"
    return d


with open(os.path.join(out, "jwks.json"), "w") as f:
    json.dump({"keys": [jwk(RSAAlgorithm, rsa_key, "rsa1"), jwk(ECAlgorithm, ec_key, "ec1"),
                        jwk(OKPAlgorithm, ed_key, "ed1")]}, f)
with open(os.path.join(out, "rotated-jwks.json"), "w") as f:
    json.dump({"keys": [jwk(RSAAlgorithm, rotated_rsa, "rsa2")]}, f)

base = {"iss": "https://issuer.test", "aud": "api", "sub": "user-42", "email": "u42@example.test",
        "scope": "read write", "iat": now, "exp": now + 3600}
tokens = {
    "rs256": jwt.encode(base, rsa_key, algorithm="RS256", headers={"kid": "rsa1"}),
    "es256": jwt.encode(base, ec_key, algorithm="ES256", headers={"kid": "ec1"}),
    "eddsa": jwt.encode(base, ed_key, algorithm="EdDSA", headers={"kid": "ed1"}),
    "admin": jwt.encode(dict(base, scope="admin"), rsa_key, algorithm="RS256", headers={"kid": "rsa1"}),
    "expired": jwt.encode(dict(base, exp=now - 600), rsa_key, algorithm="RS256", headers={"kid": "rsa1"}),
    "future": jwt.encode(dict(base, nbf=now + 600), rsa_key, algorithm="RS256", headers={"kid": "rsa1"}),
    "wrong-aud": jwt.encode(dict(base, aud="other"), rsa_key, algorithm="RS256", headers={"kid": "rsa1"}),
    "wrong-iss": jwt.encode(dict(base, iss="https://evil.test"), rsa_key, algorithm="RS256",
                            headers={"kid": "rsa1"}),
    "wrong-key": jwt.encode(base, other_rsa, algorithm="RS256", headers={"kid": "rsa1"}),
    "no-exp": jwt.encode({k: v for k, v in base.items() if k != "exp"}, rsa_key, algorithm="RS256",
                         headers={"kid": "rsa1"}),
    "none": jwt.encode(base, None, algorithm="none"),
    "hs256": jwt.encode(base, "secret", algorithm="HS256", headers={"kid": "rsa1"}),
    "rotated": jwt.encode(base, rotated_rsa, algorithm="RS256", headers={"kid": "rsa2"}),
    "skewed": jwt.encode(dict(base, exp=now - 5), rsa_key, algorithm="RS256", headers={"kid": "rsa1"}),
}
for name, token in tokens.items():
    with open(os.path.join(out, name + ".jwt"), "w") as f:
        f.write(token)
