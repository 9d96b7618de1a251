"""lxml: parsing XML and HTML, XPath with namespaces, XSLT, XML Schema
validation, objectify and serialization (libxml2 and libxslt linked into
its extension modules)."""
from io import BytesIO

from lxml import etree, html, objectify

xml = b"""<?xml version="1.0"?>
<catalog xmlns:p="urn:price">
  <book id="b1"><title>Alpha</title><p:price>10.5</p:price></book>
  <book id="b2"><title>Beta</title><p:price>7</p:price></book>
</catalog>"""
root = etree.fromstring(xml)
print(root.xpath("//book/title/text()"),
      root.xpath("sum(//p:price)", namespaces={"p": "urn:price"}))
print([b.get("id") for b in root.iterfind("book")])
xslt = etree.XSLT(etree.XML(b"""
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text"/>
  <xsl:template match="/">
    <xsl:for-each select="//book">
      <xsl:sort select="title" order="descending"/>
      <xsl:value-of select="title"/>;</xsl:for-each>
  </xsl:template>
</xsl:stylesheet>"""))
print(str(xslt(etree.ElementTree(root))))
schema = etree.XMLSchema(etree.XML(b"""
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="n" type="xs:positiveInteger"/>
</xs:schema>"""))
print(schema.validate(etree.XML(b"<n>5</n>")),
      schema.validate(etree.XML(b"<n>-5</n>")))
print(schema.error_log.last_error.message)
doc = html.fromstring("<html><body><p class=x>One<br>Two<p>Three</body></html>")
print([p.text_content() for p in doc.xpath("//p")],
      html.tostring(doc, method="html").decode())
obj = objectify.fromstring(b"<r><a>1</a><b>2.5</b><c>text</c></r>")
print(obj.a + 1, obj.b * 2, obj.c.text.upper())
for event, el in etree.iterparse(BytesIO(xml), events=("end",), tag="title"):
    print(event, el.text)
try:
    etree.fromstring(b"<a><b></a>")
except etree.XMLSyntaxError as e:
    print("XMLSyntaxError", e.msg)
print(etree.tostring(root[0], pretty_print=True).decode(), end="")
print(etree.LXML_VERSION, etree.LIBXML_VERSION, etree.LIBXSLT_VERSION)
