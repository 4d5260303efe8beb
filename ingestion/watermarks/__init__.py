"""The watermark port: how far each table's ingestion has got, moved only by a conditional write.

`port.py` holds the Protocol and its value types; `sqlite.py` (local) and `dynamo.py` (AWS) are the two
adapters, chosen by `lakeml.wiring`. Ingestion itself only ever sees the Protocol.
"""
