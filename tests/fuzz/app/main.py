# The program the bundle and ELF seeds of the fuzz targets are built from
# (tests/fuzz/seeds.sh): a package with data, a namespace package, an
# installed distribution, an extension module and the libraries it needs.
import bz2

import demo
import ns.part.mod
import pkg

print(pkg.greet(), demo.VALUE, ns.part.mod.VALUE, len(bz2.compress(b"x")))
