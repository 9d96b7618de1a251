"""Writes the corpus's test CA and the certificate of its local HTTPS
server (127.0.0.1 and localhost) into this directory, or into the one its
argument names:

    ca.pem          the test CA's certificate (trusted by the smoke apps)
    server.pem      the server's certificate, signed by the CA
    server-key.pem  the server's private key

The files here are committed; run this again only to replace them
(`python make_certs.py`, with the `cryptography` package of the corpus
venv). They are valid from 2024 to 2124, so no run of the corpus ever sees
them expire. tests/e2e/test_portable.py makes a fresh set for each of its
runs (`python make_certs.py DIR`). Nothing here is secret: the key serves
127.0.0.1 in tests.
"""
import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2124, 1, 1, tzinfo=datetime.timezone.utc)


def name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kiln corpus"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def main(out):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder()
          .subject_name(name("kiln corpus test CA"))
          .issuer_name(name("kiln corpus test CA"))
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                         critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=False, content_commitment=False,
              key_encipherment=False, data_encipherment=False,
              key_agreement=False, key_cert_sign=True, crl_sign=True,
              encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(
              ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(name("localhost"))
              .issuer_name(ca.subject)
              .public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
              .add_extension(x509.SubjectAlternativeName([
                  x509.DNSName("localhost"),
                  x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                  critical=False)
              .add_extension(x509.BasicConstraints(ca=False,
                                                   path_length=None),
                             critical=True)
              .add_extension(x509.ExtendedKeyUsage(
                  [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier
                             .from_issuer_public_key(ca_key.public_key()),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))

    (out / "ca.pem").write_bytes(pem(ca))
    (out / "server.pem").write_bytes(pem(server))
    (out / "server-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
