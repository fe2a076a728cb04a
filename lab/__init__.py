"""Closed-loop lab: campaigns, cycles, store, simulator worlds, stations, reports and the CLI."""
