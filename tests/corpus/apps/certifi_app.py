"""certifi's CA bundle, found with certifi.where() and loaded into an ssl
context as a program would do to verify servers."""
import hashlib
import os
import ssl

import certifi

where = certifi.where()
print(os.path.basename(where), os.path.isfile(where))
ctx = ssl.create_default_context(cafile=where)
certs = ctx.get_ca_certs()
print(len(certs) > 100, len(certs) == certifi.contents().count("BEGIN CERTIFICATE"))
with open(where, "rb") as f:
    data = f.read()
print(hashlib.sha256(data).hexdigest() ==
      hashlib.sha256(certifi.contents().encode("ascii")).hexdigest())
names = sorted(dict(x[0] for x in c["subject"]).get("organizationName", "")
               for c in certs)
print(len(certs), names[:3])
print(certifi.__version__)
