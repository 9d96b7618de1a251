"""idna: IDNA 2008 encoding and decoding, and the UTS 46 mapping (its
generated tables)."""
import idna
import idna.codec  # registers the idna2008 codec

print(idna.encode("ドメイン.テスト"))
print(idna.decode("xn--eckwd4c7c.xn--zckzah"))
print(idna.encode("Königsgäßchen", uts46=True))
print(idna.encode("FASS.de", uts46=True, transitional=True))
for bad in ("xn--", "a" * 64 + ".com", "☃.net"):
    try:
        idna.encode(bad)
    except idna.IDNAError as e:
        print(type(e).__name__, e)
print("ドメイン.テスト".encode("idna2008"), b"xn--eckwd4c7c".decode("idna2008"))
print(idna.__version__)
