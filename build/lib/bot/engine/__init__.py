"""Engine: routes neutral messages to flows and persists conversation state."""
