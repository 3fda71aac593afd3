"""The staff side's HTTP interfaces: the REST API (`api.py`); the web console comes later.
They parse requests, call the use cases in bot/services/ and shape the answers."""
