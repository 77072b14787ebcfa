"""One module per queue library, each driving it through the same small interface.

Every adapter module runs as ``python -m benchmarks.adapters.<name> <command> ...`` with
the Python of the environment its library lives in; ``base`` holds the shared command line
and the client-side measurements.
"""
