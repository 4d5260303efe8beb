"""The kernel: settings, errors, the lake's storage port, the AWS client factory, the SQLite helper and
the process environment. It imports nothing else of the project, so every layer can stand on it
(`.importlinter` keeps that true)."""
