"""The ``etsyflow scheduler`` process: poll ticks per shop within the daily Etsy quota."""

from .budget import Plan, plan
from .loop import Scheduler, status

__all__ = ["Plan", "Scheduler", "plan", "status"]
