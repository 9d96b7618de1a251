"""numpy: array arithmetic, linear algebra (OpenBLAS, a shared library
in numpy.libs), FFT, a seeded random generator and structured arrays."""
import numpy as np

a = np.arange(12, dtype=np.float64).reshape(3, 4)
print(a.sum(axis=0), a.mean(), a.T.shape, (a > 5).sum())
m = np.array([[4.0, 1, 0], [1, 3, 1], [0, 1, 2]])
print(np.round(np.linalg.solve(m, [1.0, 2, 3]), 6))
print(np.round(np.linalg.det(m), 6), np.round(np.linalg.eigvalsh(m), 6))
print(np.round(m @ m, 3).tolist())
print(np.round(np.abs(np.fft.rfft([0.0, 1, 0, -1, 0, 1, 0, -1])), 6))
rng = np.random.default_rng(1234)
print(rng.integers(0, 100, 6), np.round(rng.standard_normal(3), 6))
rec = np.array([(b"apple", 3, 1.5), (b"pear", 12, 0.25)],
               dtype=[("name", "S8"), ("n", "i4"), ("p", "f8")])
print(rec[rec["n"] > 5]["name"], np.sort(rec, order="p")["name"])
print(np.datetime64("2024-03-01") + np.timedelta64(30, "D"),
      np.busday_count("2024-03-01", "2024-04-01"))
print(np.__version__, np.dtype("float64").itemsize)
