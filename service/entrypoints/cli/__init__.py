"""The `stocksync` command line (`main.py`) and the demo catalogue it seeds (`demo.py`)."""
