"""Wire-protocol emulators of the bench instruments, their shared bench state and fault injection."""
