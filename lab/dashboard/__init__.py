"""A read-only live page of a campaign's store: progress per station, films and failures, the Pareto front.

Modules: `objectives` (the campaign's objectives, per-film values, front and best so far; no torch), `snapshot` (one
read-only read of the store as JSON), `page` (the HTML page and its script), `app` (the Starlette routes), `server`
(uvicorn on 127.0.0.1). `lab dashboard` (`lab.cli.dashboard`) starts it.
"""
