#!/usr/bin/env python3
"""Independent verifier for the Voelgoed ticket format v1 test vectors.

Written from docs/ticket-format.md alone (no reference to the Rust implementation), and
updated as the spec was made more precise (whitespace set, base45 check order, §5.2 keys):
it implements decoding and verification steps 1-10 of spec §5 (step 11, gate rules and
entry policy, is out of scope; a ticket passing steps 1-10 counts as "valid") and checks
every vector in tickets-v1.json against it.

Usage: python3 verify_vectors.py [path/to/tickets-v1.json]
Exit status 0 iff every check passes. Needs only the standard library and `cryptography`.
"""
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAX_INPUT_BYTES = 512                      # §5 step 1
WHITESPACE = " \t\r\n\f"                   # §5 step 2: exactly these five ASCII characters
PREFIX = "VG1:"                            # §4 / §5 step 3
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"   # §4, RFC 9285
ALPHABET_BYTES = ALPHABET.encode("ascii")
TICKET_DOMAIN = b"voelgoed/ticket/v1\x00"          # §3.1, 19 bytes
DELEGATION_DOMAIN = b"voelgoed/delegation/v1\x00"  # §3.2, 23 bytes
assert len(TICKET_DOMAIN) == 19 and len(DELEGATION_DOMAIN) == 23


class Refused(Exception):
    """A verdict other than "valid": `code` is the §5 verdict, `detail` the detail code."""

    def __init__(self, code, detail=None):
        super().__init__(code, detail)
        self.code, self.detail = code, detail


def malformed(detail):
    return Refused("malformed", detail)


# ---------------------------------------------------------------- base45 (§4, §5 step 4)

def base45_decode(b):
    """Strict base45 of the bytes after the prefix (§5 step 4): length first, in bytes; then
    group by group, each group's characters before its value."""
    if len(b) % 3 == 1:
        raise malformed("base45_invalid_length")
    out = bytearray()
    for i in range(0, len(b), 3):
        group = b[i:i + 3]
        if any(c not in ALPHABET_BYTES for c in group):
            raise malformed("base45_invalid_char")
        n = sum(ALPHABET_BYTES.index(c) * 45 ** k for k, c in enumerate(group))  # least significant first
        if len(group) == 3:
            if n > 0xFFFF:
                raise malformed("base45_value_out_of_range")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise malformed("base45_value_out_of_range")
            out.append(n)
    return bytes(out)


def base45_encode(data):
    out = []
    for i in range(0, len(data), 2):
        chunk = data[i:i + 2]
        n, width = (chunk[0] * 256 + chunk[1], 3) if len(chunk) == 2 else (chunk[0], 2)
        for _ in range(width):
            n, d = divmod(n, 45)
            out.append(ALPHABET[d])
    return "".join(out)


# ---------------------------------------------------------------- binary layout (§2, §5 step 5)

class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise malformed("truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")


def parse(data):
    """Shape checks in reading order; returns (fields, delegation message, delegation sig, sig)."""
    r = Reader(data)
    if r.uint(1) != 1:
        raise malformed("unsupported_version")
    flags = r.uint(1)
    if flags & 0xF8:
        raise malformed("unknown_flags")
    key_id = r.uint(1)                    # offset 2, before the event id at offset 3
    fields = {"event": r.uint(4), "key_id": key_id}
    fields["serial"] = r.uint(4)
    fields["ticket_type"] = r.uint(2)
    fields["validity"] = fields["seat"] = fields["delegation"] = None
    if flags & 0x01:
        not_before, not_after = r.uint(4), r.uint(4)
        if not_after < not_before:
            raise malformed("invalid_validity_window")
        fields["validity"] = {"not_before": not_before, "not_after": not_after}
    if flags & 0x04:
        fields["seat"] = r.uint(2)
    deleg_msg = deleg_sig = None
    if flags & 0x02:
        start = r.pos
        device_key = r.take(32)
        first, last = r.uint(4), r.uint(4)
        if last < first:
            raise malformed("invalid_delegation_range")
        expires, count = r.uint(4), r.uint(1)
        if not 1 <= count <= 4:
            raise malformed("invalid_delegation_type_count")
        types = [r.uint(2) for _ in range(count)]
        # §3.2: prefix || event || key_id || the delegation bytes exactly as they appear.
        deleg_msg = (DELEGATION_DOMAIN + data[3:7] + data[2:3] + data[start:r.pos])
        deleg_sig = r.take(64)
        fields["delegation"] = {
            "device_key": device_key.hex(), "first_serial": first, "last_serial": last,
            "expires": expires, "ticket_types": types, "signature": deleg_sig.hex()}
    signature = r.take(64)
    if r.pos != len(data):
        raise malformed("trailing_bytes")
    return fields, deleg_msg, deleg_sig, signature


# ---------------------------------------------------------------- strict Ed25519 (§5 step 8)
# OpenSSL (behind `cryptography`) does the RFC 8032 equation check and compares the recomputed
# R with the signature's R byte-for-byte (so a non-canonical R fails). The checks of
# ed25519-dalek's verify_strict that OpenSSL may not make are done here in pure Python:
# S < L, and neither the public key A nor R may be a point of small order. (Checked: OpenSSL
# alone accepts the "small-order device key" vector, identity key with R = identity, S = 0.)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493      # order of the prime subgroup
D = -121665 * pow(121666, -1, P) % P                      # curve constant d
SQRT_M1 = pow(2, (P - 1) // 4, P)                         # a square root of -1 mod p


def decode_point(b):
    """RFC 8032 §5.1.3 point decoding; returns affine (x, y) or None.

    Strict: y >= p (non-canonical) and x = 0 with the sign bit set are refused, as §5.1.3 says."""
    if len(b) != 32:
        return None
    v = int.from_bytes(b, "little")
    y, sign = v & ((1 << 255) - 1), v >> 255
    if y >= P:
        return None
    u, w = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(w, 3, P) * pow(u * pow(w, 7, P), (P - 5) // 8, P) % P
    if w * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    if w * x * x % P != u:
        return None                                       # not on the curve
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y)


def point_double(pt):
    # Twisted Edwards addition (a = -1) of pt with itself; complete on Ed25519 (d non-square).
    x, y = pt
    t = D * x * x * y * y % P
    return ((2 * x * y) * pow(1 + t, -1, P) % P, (y * y + x * x) * pow(1 - t, -1, P) % P)


def is_small_order(pt):
    """A point has small order iff multiplying by the cofactor 8 gives the identity (0, 1)."""
    for _ in range(3):
        pt = point_double(pt)
    return pt == (0, 1)


def verify_strict(public_key, message, signature):
    if len(signature) != 64:
        return False
    a, r = decode_point(public_key), decode_point(signature[:32])
    if a is None or r is None or is_small_order(a) or is_small_order(r):
        return False
    if int.from_bytes(signature[32:], "little") >= L:    # S must be canonical
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


# ---------------------------------------------------------------- §5 steps 1-10

def verify(text, ctx):
    """Return (fields, ticket bytes) for a valid ticket or raise Refused."""
    raw = text.encode("utf-8")
    if len(raw) > MAX_INPUT_BYTES:                              # 1. length cap, raw bytes
        raise malformed("too_long")
    raw = raw.strip(WHITESPACE.encode("ascii"))                 # 2. trim (ASCII only)
    if not raw:
        raise malformed("empty")
    if not raw.startswith(PREFIX.encode("ascii")):              # 3. prefix
        raise malformed("missing_prefix")
    data = base45_decode(raw[len(PREFIX):])                     # 4. base45
    fields, deleg_msg, deleg_sig, signature = parse(data)       # 5. shape
    try:
        return check_claims(data, fields, deleg_msg, deleg_sig, signature, ctx), data
    except Refused as refusal:
        refusal.data = data
        raise


def check_claims(data, fields, deleg_msg, deleg_sig, signature, ctx):
    # Only `event` and `key_id` are used before the signatures check out (§5, last sentence).
    if fields["event"] != ctx["event"]:                        # 6. event
        raise Refused("wrong_event")
    event_key = ctx["keys"].get(fields["key_id"])              # 7. key
    if event_key is None:
        raise Refused("unknown_key")
    ticket_msg = TICKET_DOMAIN + data[:-64]                     # 8. signatures
    deleg = fields["delegation"]
    if deleg is None:
        if not verify_strict(event_key, ticket_msg, signature):
            raise Refused("bad_signature")
    else:
        if not verify_strict(event_key, deleg_msg, deleg_sig):
            raise Refused("delegation_invalid", "delegation_bad_signature")
        device_key = bytes.fromhex(deleg["device_key"])
        point = decode_point(device_key)                        # §5.2: canonical, not small order
        if point is None or is_small_order(point):
            raise Refused("delegation_invalid", "delegation_invalid_device_key")
        if not verify_strict(device_key, ticket_msg, signature):
            raise Refused("bad_signature")
        if not deleg["first_serial"] <= fields["serial"] <= deleg["last_serial"]:
            raise Refused("delegation_invalid", "delegation_serial_out_of_range")
        if fields["ticket_type"] not in deleg["ticket_types"]:
            raise Refused("delegation_invalid", "delegation_type_not_allowed")
    if fields["serial"] in ctx["revoked"]:                      # 9. revocation
        raise Refused("revoked")
    now, tol = ctx["now"], ctx["tolerance"]                      # 10. time (unbounded ints)
    if deleg is not None and now > deleg["expires"] + tol:
        raise Refused("delegation_invalid", "delegation_expired")
    window = fields["validity"]
    if window is not None and now < window["not_before"] - tol:
        raise Refused("not_yet_valid")
    if window is not None and now > window["not_after"] + tol:
        raise Refused("expired")
    return fields


# ---------------------------------------------------------------- vector checks

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "tickets-v1.json")
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    c = vectors["context"]
    ctx = {"event": c["event"], "now": c["now"], "tolerance": c["tolerance_secs"],
           "revoked": set(c["revoked"]),
           "keys": {k["key_id"]: bytes.fromhex(k["public_key"]) for k in c["keys"]}}
    passed = failed = 0

    def report(ok, name, problem=""):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {problem}"))

    for key in vectors["keys"]:                   # public key must be the seed's (§6)
        seed = bytes.fromhex(key["secret_key"])
        derived = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw).hex()
        report(derived == key["public_key"], f"key: {key['name']}", f"derived {derived}")

    for vec in vectors["valid"]:
        name = f"valid: {vec['name']}"
        try:
            fields, data = verify(vec["text"], ctx)
        except Refused as e:
            report(False, name, f"refused {e.code} ({e.detail})")
            continue
        problems = []
        if fields != vec["fields"]:
            problems.append(f"fields {json.dumps(fields, sort_keys=True)}")
        if data.hex() != vec["hex"]:
            problems.append(f"bytes {data.hex()}")
        if PREFIX + base45_encode(data) != vec["text"].strip(WHITESPACE):
            problems.append("text is not the canonical encoding of the bytes")
        report(not problems, name, "; ".join(problems))

    for vec in vectors["invalid"]:
        name = f"invalid: {vec['name']}"
        try:
            fields, _ = verify(vec["text"], ctx)
        except Refused as e:
            got = (e.code, e.detail)
            problems = [] if got == (vec["expect"], vec.get("detail")) else [f"got {got}"]
            # Where the vector lists the bytes, they must be what base45 produced.
            data = getattr(e, "data", None)
            if vec.get("hex") is not None and data is not None and data.hex() != vec["hex"]:
                problems.append(f"bytes {data.hex()}")
            report(not problems, name, "; ".join(problems))
            continue
        report(False, name, f"accepted as valid: {json.dumps(fields, sort_keys=True)}")

    print(f"{passed} passed, {failed} failed, {passed + failed} checks")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
