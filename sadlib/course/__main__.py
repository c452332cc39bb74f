"""``python -m sadlib.course``: run the course notebooks headless (see :mod:`sadlib.course.runner`)."""

import sys

from .runner import main

sys.exit(main())
