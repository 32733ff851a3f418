#!/usr/bin/env bash
# bench/pki.sh DIR NAME: a test PKI for the TLS benchmarks in DIR, unless it is there: an
# RSA-2048 CA ("NAME CA", ca.pem/ca.key) and a leaf for localhost and 127.0.0.1
# (leaf.pem/leaf.key), as AWS endpoints present RSA. Exits non-zero when openssl fails.
set -eu
P=$1
[ -f "$P/leaf.pem" ] && exit 0
mkdir -p "$P"
cd "$P"
{
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=$2 CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 3650 -sha256 -extfile leaf.ext
} >pki.log 2>&1
