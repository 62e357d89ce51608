import base64
import gzip
import time

import jwt  # PyJWT[crypto], nothing else

PURPOSES = {"revocation": "REVOKED", "suspension": "SUSPENDED"}


def verify(token: str, kit: dict, now: float | None = None) -> str:
    now = now or time.time()
    keys = {k["kid"]: jwt.PyJWK(k).key for k in kit["jwks"]["keys"]}

    def opened(jws: str) -> tuple[dict, bool]:  # a kit key of the org it names; in its time?
        kid = jwt.get_unverified_header(jws)["kid"]
        options = {"verify_exp": False, "verify_nbf": False}
        c = jwt.decode(jws, keys[kid], algorithms=["ES256"], options=options)
        assert kid.startswith(c["iss"] + "-"), "signed with another org's key"
        return c, c.get("nbf", 0) <= now < c.get("exp", float("inf"))

    claims, current = opened(token)
    status, fresh = opened(kit["statusLists"][claims["iss"]])
    if not current:
        return "EXPIRED"
    if not fresh:
        return "UNKNOWN"  # a stale status list: never VALID
    i = claims["status"]["statusListIndex"]
    for purpose, listed in status["lists"].items():  # revocation, suspension
        bits = gzip.decompress(base64.urlsafe_b64decode(listed[1:] + "=="))
        if bits[i // 8] >> (7 - i % 8) & 1:
            return PURPOSES[purpose]
    return "VALID"
