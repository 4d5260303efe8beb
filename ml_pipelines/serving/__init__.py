"""Inference: the image's `serve` command (SageMaker's container contract), endpoints with variants,
hot reload on deploy, and batch scoring through the same prediction code."""
