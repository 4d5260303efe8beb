"""The lake's storage port: one `pyarrow.fs` code path writes a local folder or an S3 bucket."""

from lakeml.core.lake.port import BRONZE, GOLD, QUARANTINE, SILVER, DeletedObject, LakeHistory, LakeStorage

__all__ = ["BRONZE", "GOLD", "QUARANTINE", "SILVER", "DeletedObject", "LakeHistory", "LakeStorage"]
