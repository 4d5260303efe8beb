"""The daily flow: its stages declared once, run in-process locally or by Step Functions on AWS."""
