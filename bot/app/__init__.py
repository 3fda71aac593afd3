"""The application: the one composition root, the HTTP app, `serve` and the demo data."""
