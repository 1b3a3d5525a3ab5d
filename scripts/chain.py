import os
import sys

# BLAS with one thread, as in the stage jobs (their threads: 1): a threaded BLAS may
# sum in another order, and the chain must write the files a stage job writes. Set
# before NumPy is imported (Snakemake's preamble does not import it).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.runtime.chain import run_chain
from stratopt.runtime.rule import ready_to_exit

run_chain(snakemake)
ready_to_exit()  # the process ends: its exit skips the libraries' objects
