import sys

from microlearn.cli.main import main

sys.exit(main())
