#!/usr/bin/env python3
"""Print the C table of mcp.c's compiled-in trust anchors (the roots AWS endpoints chain
to) from the system's PEM files. test/run.sh checks that mcp.c holds exactly this output.
Reads DER with the standard library only."""
import base64, sys

ROOTS = ["Amazon_Root_CA_1", "Amazon_Root_CA_2", "Amazon_Root_CA_3", "Amazon_Root_CA_4",
         "Starfield_Services_Root_Certificate_Authority_-_G2"]
CURVES = {"2a8648ce3d030107": "BR_EC_secp256r1", "2b81040022": "BR_EC_secp384r1"}

def tlv(b, i):
    tag = b[i]; i += 1
    n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[i:i + k], "big"); i += k
    return tag, i, n  # value starts at i

def children(b, start, n):
    out, i = [], start
    while i < start + n:
        tag, v, ln = tlv(b, i)
        out.append((tag, i, v, ln))
        i = v + ln
    return out

def carr(name, data):
    rows = [", ".join("0x%02x" % x for x in data[k:k + 12]) for k in range(0, len(data), 12)]
    return "static const unsigned char %s[] = {\n    %s,\n};\n" % (name, ",\n    ".join(rows))

def main(d):
    out, entries = [], []
    for idx, name in enumerate(ROOTS):
        pem = open("%s/%s.pem" % (d, name)).read()
        der = base64.b64decode("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))
        _, v, ln = tlv(der, 0)
        tbs = children(der, v, ln)[0]
        f = children(der, tbs[2], tbs[3])
        if f[0][0] == 0xa0:
            f = f[1:]
        subject, spki = f[4], f[5]
        dn = der[subject[1]:subject[2] + subject[3]]
        alg, key = children(der, spki[2], spki[3])
        algf = children(der, alg[2], alg[3])
        oid = der[algf[0][2]:algf[0][2] + algf[0][3]].hex()
        bits = der[key[2] + 1:key[2] + key[3]]  # skip the unused-bits byte
        out.append(carr("ta%d_dn" % idx, dn))
        if oid == "2a864886f70d010101":  # rsaEncryption
            _, v2, l2 = tlv(bits, 0)
            nn, ee = children(bits, v2, l2)
            n = bits[nn[2]:nn[2] + nn[3]].lstrip(b"\0")
            e = bits[ee[2]:ee[2] + ee[3]]
            out.append(carr("ta%d_n" % idx, n))
            out.append(carr("ta%d_e" % idx, e))
            entries.append("    {{(unsigned char *)ta%d_dn, sizeof ta%d_dn}, BR_X509_TA_CA, {BR_KEYTYPE_RSA, {.rsa = "
                           "{(unsigned char *)ta%d_n, sizeof ta%d_n, (unsigned char *)ta%d_e, sizeof ta%d_e}}}}, /* %s */"
                           % (idx, idx, idx, idx, idx, idx, name.replace("_", " ")))
        else:  # id-ecPublicKey
            curve = CURVES[der[algf[1][2]:algf[1][2] + algf[1][3]].hex()]
            out.append(carr("ta%d_q" % idx, bits))
            entries.append("    {{(unsigned char *)ta%d_dn, sizeof ta%d_dn}, BR_X509_TA_CA, {BR_KEYTYPE_EC, {.ec = "
                           "{%s, (unsigned char *)ta%d_q, sizeof ta%d_q}}}}, /* %s */"
                           % (idx, idx, curve, idx, idx, name.replace("_", " ")))
    print("".join(out) + "static const br_x509_trust_anchor aws_anchors[] = {\n" + "\n".join(entries) + "\n};")

main(sys.argv[1] if len(sys.argv) > 1 else "/etc/ssl/certs")
