import base64, gzip, time, jwt  # PyJWT[crypto], nothing else

def verify(token: str, kit: dict, now: float | None = None) -> str:
    now, keys = now or time.time(), {k["kid"]: jwt.PyJWK(k).key for k in kit["jwks"]["keys"]}
    def opened(jws: str) -> tuple[dict, bool]:  # a kit key of the org it names; in its time?
        kid = jwt.get_unverified_header(jws)["kid"]
        c = jwt.decode(jws, keys[kid], algorithms=["ES256"], options={"verify_exp": False, "verify_nbf": False})
        assert kid.startswith(c["iss"] + "-"), "signed with another org's key"
        return c, c.get("nbf", 0) <= now < c.get("exp", float("inf"))
    claims, current = opened(token)
    status, fresh = opened(kit["statusLists"][claims["iss"]])
    if not current or not fresh: return "EXPIRED" if not current else "UNKNOWN"  # stale: never VALID
    i = claims["status"]["statusListIndex"]
    for purpose, listed in status["lists"].items():  # revocation, suspension
        if gzip.decompress(base64.urlsafe_b64decode(listed[1:] + "=="))[i // 8] >> (7 - i % 8) & 1:
            return {"revocation": "REVOKED", "suspension": "SUSPENDED"}[purpose]
    return "VALID"
