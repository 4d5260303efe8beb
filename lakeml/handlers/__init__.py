"""AWS Lambda entry points: parse the event, wire the adapters, call the library code the CLI also calls."""
