"""charset-normalizer (its mypyc-compiled modules) detecting the encoding
of text in several scripts and code pages."""
import sys

import charset_normalizer
from charset_normalizer import from_bytes, is_binary

samples = [
    ("Bonjour, ça va? Très bien, merci. Où est la bibliothèque? ", "cp1252"),
    ("Добрый день! Как у вас дела? Всё хорошо, спасибо большое. ", "cp1251"),
    ("こんにちは、世界。今日はとても良い天気ですね。ありがとう。", "shift_jis"),
    ("Καλημέρα κόσμε, πώς είστε σήμερα; Πολύ καλά, ευχαριστώ. ", "utf-8"),
]
for text, encoding in samples:
    best = from_bytes((text * 4).encode(encoding)).best()
    print(encoding, "->", best.encoding, str(best)[:12], best.language)
print(is_binary(bytes(range(256)) * 4))
print(charset_normalizer.__version__)
print(sorted(m for m in sys.modules if m.startswith("charset_normalizer.md")))
