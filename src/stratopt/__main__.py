import sys

from stratopt.cli import main

sys.exit(main())
