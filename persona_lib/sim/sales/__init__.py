"""Sales campaigns simulated on a world, with their truth: upgrade offers to households, win-back
messages, a games catalog and the ads tier with its ad-load experiment.
"""

from persona_lib.sim.sales.config import SalesConfig
from persona_lib.sim.sales.simulator import simulate_sales

__all__ = ["SalesConfig", "simulate_sales"]
