"""Development and test tools: local stand-ins for outside services.

Nothing here is imported by the application; `make run` and the test suite
start these as separate processes.
"""
