"""urllib3 on its own: a pool manager over TLS to the local test server
(trusting the corpus's test CA), retries, multipart encoding and URL
parsing."""
import json
import sys

import urllib3
from urllib3.util import Retry, Timeout, parse_url

import corpus_server

server, url, ca = corpus_server.serve(sys.argv[1])
http = urllib3.PoolManager(ca_certs=ca, cert_reqs="CERT_REQUIRED",
                           retries=Retry(total=2, status_forcelist=[503]),
                           timeout=Timeout(connect=5, read=10))
r = http.request("GET", url + "/json", fields={"x": "1"})
print(r.status, r.headers["Content-Type"], json.loads(r.data))
r = http.request("POST", url + "/echo", body=json.dumps({"k": "v"}),
                 headers={"Content-Type": "application/json"})
print(r.json())
body, content_type = urllib3.encode_multipart_formdata(
    {"field": "value", "file": ("a.txt", b"data", "text/plain")},
    boundary="corpusboundary")
print(content_type, len(body))
print(http.request("GET", url + "/nothing").status)
strict = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", retries=False)
try:
    strict.request("GET", url + "/json")
except urllib3.exceptions.SSLError as e:
    print("SSLError:", "CERTIFICATE_VERIFY_FAILED" in str(e))
u = parse_url("https://user@例え.テスト:8443/p/a?q=1#f")
print(u.scheme, u.auth, u.host, u.port, u.path, u.query, u.fragment)
print(urllib3.__version__)
server.shutdown()
