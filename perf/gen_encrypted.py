#!/usr/bin/env python3
"""Writes a server-style JSON array whose noteRSA fields are encrypted with a PEM public key (PKCS#1 v1.5, as the
study server's Java "RSA" cipher does). Every value gets its own ciphertext unless --pool N reuses N of them.
Used by the perf scripts only; needs python3-cryptography, falls back to the openssl command line."""
import argparse, base64, json, os, subprocess, sys, tempfile

TEXTS = ["Je me sens déjà mieux, à bientôt", "Perché è così difficile?", "我今天感觉很焦虑", "😀👍🏽 ok",
         "commas, \"quotes\"\nand newlines"]

def encryptor(pub_path):
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        key = serialization.load_pem_public_key(open(pub_path, "rb").read())
        return lambda text: base64.b64encode(key.encrypt(text.encode(), padding.PKCS1v15())).decode()
    except ImportError:
        def slow(text):
            with tempfile.NamedTemporaryFile() as f:
                f.write(text.encode()); f.flush()
                out = subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", pub_path,
                                      "-pkeyopt", "rsa_padding_mode:pkcs1", "-in", f.name], capture_output=True, check=True)
                return base64.b64encode(out.stdout).decode()
        return slow

def main():
    p = argparse.ArgumentParser()
    p.add_argument("public_key"); p.add_argument("rows", type=int); p.add_argument("out")
    p.add_argument("--pool", type=int, default=0, help="reuse this many ciphertexts (0: all distinct)")
    p.add_argument("--first-id", type=int, default=1)
    p.add_argument("--pad", type=int, default=0, help="bytes of plain filler text per entry")
    a = p.parse_args()
    enc = encryptor(a.public_key)
    pool = [enc(TEXTS[i % len(TEXTS)] + f" {i}") for i in range(a.pool)] if a.pool else None
    filler = ("lorem ipsum dolor sit amet, " * (a.pad // 28 + 1))[:a.pad]
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("[")
        for i in range(a.rows):
            rid = a.first_id + i
            note = pool[i % len(pool)] if pool else enc(TEXTS[i % len(TEXTS)] + f" {rid}")
            entry = {"id": rid, "date": "Mon, 02 Mar 2026 10:00:00 -0500", "session": "firstSession",
                     "noteRSA": note, "score": 3, "answer": filler}
            f.write(("," if i else "") + json.dumps(entry, ensure_ascii=False))
        f.write("]\n")

if __name__ == "__main__":
    main()
