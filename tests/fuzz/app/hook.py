# A runtime hook: it runs before the program.
import os

os.environ.setdefault("FUZZ_SEED_HOOK", "1")
