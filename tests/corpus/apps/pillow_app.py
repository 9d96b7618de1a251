"""Pillow: an image drawn, transformed (rotate, resize, filter, colour
conversion) and saved as PNG, JPEG and WebP through the codecs in its
extension modules and pillow.libs, then opened again."""
import hashlib
import io

from PIL import (Image, ImageDraw, ImageFilter, ImageOps, __version__,
                 features)

img = Image.new("RGB", (64, 48), (255, 255, 255))
draw = ImageDraw.Draw(img)
draw.rectangle((4, 4, 30, 20), fill=(200, 30, 30), outline=(0, 0, 0))
draw.ellipse((32, 10, 60, 44), fill=(30, 30, 200))
draw.line((0, 47, 63, 0), fill=(0, 160, 0), width=2)
out = (img.rotate(90, expand=True).resize((24, 32), Image.Resampling.BILINEAR)
       .filter(ImageFilter.SMOOTH))
out = ImageOps.autocontrast(ImageOps.mirror(out))
print(out.size, out.mode, out.getpixel((3, 3)), out.getpixel((20, 28)))
print(hashlib.sha256(out.tobytes()).hexdigest()[:16])
print(out.convert("L").histogram()[250:256])
for fmt in ("PNG", "JPEG", "WEBP", "TIFF", "GIF"):
    buf = io.BytesIO()
    out.save(buf, format=fmt)
    again = Image.open(io.BytesIO(buf.getvalue()))
    again.load()
    print(fmt, again.format, again.size, again.mode,
          again.tobytes() == out.convert(again.mode).tobytes()
          if fmt in ("PNG", "TIFF") else again.getbbox())
print(features.check("jpg"), features.check("webp"), features.check("zlib"))
print(__version__)
