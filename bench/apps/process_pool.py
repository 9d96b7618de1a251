"""process_pool: concurrent.futures.ProcessPoolExecutor mapping a function
over 4 worker processes started with the spawn method, so that every worker
is the program started again (sys.executable); freeze_support() is called
as PyInstaller requires."""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def square(x):
    return x * x


if __name__ == "__main__":
    multiprocessing.freeze_support()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=ctx) as ex:
        print(sum(ex.map(square, range(1000), chunksize=50)))
