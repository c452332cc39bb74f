"""Alarm policies: from a score series to alarms an operator can live with (see :mod:`sadlib.alarms._rules`)."""

from ._rules import *  # noqa: F403
from ._rules import __all__  # noqa: F401
