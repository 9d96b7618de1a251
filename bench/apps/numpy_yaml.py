"""A small numpy computation, dumped with yaml.safe_dump."""
import numpy as np
import yaml


def main():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    b = a @ a.T
    out = {"shape": list(b.shape), "trace": float(np.trace(b)),
           "mean": round(float(b.mean()), 3)}
    print(yaml.safe_dump(out, sort_keys=True).strip().replace("\n", "; "))


if __name__ == "__main__":
    main()
