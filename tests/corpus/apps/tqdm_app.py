"""tqdm: progress bars written to a buffer with fixed formats (no
timings), manual updates, nesting and its static meter formatter."""
import io

from tqdm import tqdm, trange
from tqdm.contrib import tenumerate

buf = io.StringIO()
fmt = "{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt}"
total = sum(x for x in tqdm(range(50), file=buf, desc="sum", mininterval=0,
                            miniters=1, bar_format=fmt, ascii=True))
print(total)
for i in trange(3, file=buf, desc="outer", bar_format=fmt, ascii=True,
                mininterval=0):
    with tqdm(total=4, file=buf, desc=f"inner{i}", leave=False,
              bar_format=fmt, ascii=True, mininterval=0) as bar:
        for _ in range(4):
            bar.update(1)
lines = [s.strip() for s in buf.getvalue().replace("\r", "\n").splitlines()
         if s.strip()]
print(len(lines))
print("\n".join(lines[:3]))
print("\n".join(lines[-3:]))
print(list(tenumerate("abc", file=io.StringIO())))
print(tqdm.format_meter(30, 120, 15.0, ncols=60, prefix="job"))
print(tqdm.format_sizeof(123456789), tqdm.format_interval(3725))
