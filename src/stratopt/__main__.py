import sys

from stratopt.cli import run

sys.exit(run())
