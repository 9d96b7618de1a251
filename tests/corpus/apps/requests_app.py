"""requests (with urllib3, idna, charset-normalizer and certifi) against a
local HTTPS server whose certificate only the corpus's test CA signs:
verified with that CA, refused with certifi's bundle (the default)."""
import sys

import certifi
import requests

import corpus_server

server, url, ca = corpus_server.serve(sys.argv[1])
with requests.Session() as s:
    r = s.get(url + "/json", params={"q": "kiln", "n": 3}, verify=ca)
    print(r.status_code, r.headers["X-Corpus"], r.json())
    r = s.get(url + "/text", verify=ca)
    print(r.encoding, r.text)
    r = s.post(url + "/echo", json={"a": [1, 2]}, verify=ca)
    print(r.json())
    r = s.get(url + "/missing", verify=ca)
    print(r.status_code, r.ok, r.reason)
    try:
        r.raise_for_status()
    except requests.HTTPError as e:
        print("HTTPError:", str(e).split(" for url")[0])
# Without verify=, requests trusts certifi's bundle, which lacks the test CA.
print(requests.utils.DEFAULT_CA_BUNDLE_PATH == certifi.where())
try:
    requests.get(url + "/json", timeout=10)
except requests.exceptions.SSLError as e:
    print("SSLError:", "CERTIFICATE_VERIFY_FAILED" in str(e))
print(requests.__version__, requests.certs.where() == certifi.where())
server.shutdown()
