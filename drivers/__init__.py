"""Instrument drivers (pyserial) and their wire-protocol emulators."""
