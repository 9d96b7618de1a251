"""cryptography (its Rust extension and OpenSSL linked into it, and cffi):
deterministic signatures, AEAD, key derivation, Fernet, X.509
certificates built and parsed, and PEM serialization."""
import datetime
import hashlib

import cryptography
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.x509.oid import NameOID

key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
sig = key.sign(b"kiln")
print(sig.hex()[:32], key.public_key().verify(sig, b"kiln") is None)
aes = AESGCM(bytes(32))
ct = aes.encrypt(bytes(12), b"secret", b"aad")
print(ct.hex(), aes.decrypt(bytes(12), ct, b"aad"))
print(ChaCha20Poly1305(bytes(range(32))).encrypt(bytes(12), b"x", None).hex())
print(HKDF(hashes.SHA256(), 16, b"salt", b"info").derive(b"ikm").hex())
print(PBKDF2HMAC(hashes.SHA256(), 16, b"salt", 1000).derive(b"pw").hex())
f = Fernet(b"x" * 43 + b"=")
print(f.decrypt(f.encrypt(b"fernet message")))
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kiln test")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1234)
        .not_valid_before(datetime.datetime(2024, 1, 1))
        .not_valid_after(datetime.datetime(2034, 1, 1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("example.test")]), critical=False)
        .sign(key, None))
der = cert.public_bytes(serialization.Encoding.DER)
print(hashlib.sha256(der).hexdigest())
again = x509.load_pem_x509_certificate(
    cert.public_bytes(serialization.Encoding.PEM))
print(again.subject.rfc4514_string(), again.serial_number,
      again.not_valid_after_utc.isoformat(),
      again.extensions.get_extension_for_class(
          x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
print(rsa_key.key_size, rsa_key.public_key().public_numbers().e)
pem = key.private_bytes(serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
print(pem.decode().splitlines()[1])
print(cryptography.__version__)
