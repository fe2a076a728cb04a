"""The P3HT/CNT scenario: five-component blends drop-cast as films, measured optically and by 4-point probe.

Modules: `scenario` (the `Scenario`), `space.yaml` (its search space), `simulated` (stations in direct Python),
`graph_belief` (the conductivity belief through sheet resistance and thickness), and its world: `landscape` (the
calibrated conductivity landscape), `world` (films, measurements, failures, prices), `calibration` (fitting the
landscape on real films), `campaign_table` (campaign-like tables of simulated films), `backend` (the world as the
physics of the emulated bench).
"""
