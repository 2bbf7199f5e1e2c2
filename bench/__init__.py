"""The benchmarks (bench/README.md): scripts run as `.venv/bin/python bench/turns.py`,
importing each other as `bench.data`, `bench.loadgen`, … (and the tests import `bench.data`)."""
