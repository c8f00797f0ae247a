"""``python -m example_worker``"""

import sys

from example_worker.worker import main

if __name__ == "__main__":
    sys.exit(main())
