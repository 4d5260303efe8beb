"""Least-privilege check of the AWS estate: record calls, map them to IAM, evaluate, report (issue 13 §3)."""
