"""Generic simulator worlds shared by scenarios; each built-in scenario's own world lives in its package under `lab.scenarios`."""
