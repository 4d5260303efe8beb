"""The twin's Spark catalog (Hive metastore, Derby under `<home>/glue`) as the Glue Data Catalog.

Reads (GetDatabases, GetDatabase, GetTables, GetTable) translate Spark's `CatalogTable` into Glue's
`Database`/`Table` shapes: TableType EXTERNAL_TABLE / MANAGED_TABLE / VIRTUAL_VIEW, columns without the
partition keys, the data source provider in `Parameters` (`spark.sql.sources.provider`), locations of the
lake answered as S3 URIs. Writes (CreateDatabase, DeleteDatabase, UpdateTable) are Spark SQL DDL, so the
catalog has one writer's rules whether a table came from a statement or from the API.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lakeml.twins.glue.paths import LakeMap

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TABLE_TYPES = {"EXTERNAL": "EXTERNAL_TABLE", "MANAGED": "MANAGED_TABLE", "VIEW": "VIRTUAL_VIEW"}


class NotFound(Exception):
    """No such database or table (Glue's EntityNotFoundException)."""


class AlreadyExists(Exception):
    """The database exists (Glue's AlreadyExistsException)."""


class Catalog:
    def __init__(self, spark: SparkSession, lake: LakeMap, account: str) -> None:
        self.spark = spark
        self.lake = lake
        self.account = account

    @property
    def _external(self) -> Any:
        return self.spark._jsparkSession.sharedState().externalCatalog()

    @property
    def _converters(self) -> Any:
        jvm: Any = self.spark._jvm
        return jvm.scala.collection.JavaConverters

    def _java(self, scala: Any) -> list[Any]:
        return list(self._converters.seqAsJavaList(scala))

    # --- databases ---------------------------------------------------------------------------------------

    def databases(self) -> list[dict[str, Any]]:
        return [self.database(name) for name in sorted(self._java(self._external.listDatabases()))]

    def database(self, name: str) -> dict[str, Any]:
        if not self._external.databaseExists(name):
            raise NotFound(f"Database {name} not found.")
        db = self._external.getDatabase(name)
        return {
            "Name": db.name(),
            "Description": db.description() or "",
            "LocationUri": self.lake.to_s3(db.locationUri().toString()),
            "Parameters": {},
            "CatalogId": self.account,
        }

    def create_database(self, spec: dict[str, Any]) -> None:
        name = spec["Name"]
        if self._external.databaseExists(name):
            raise AlreadyExists(f"Database already exists: {name}")
        sql = f"create database `{name}`"
        if spec.get("Description"):
            sql += " comment '" + spec["Description"].replace("'", "\\'") + "'"
        if spec.get("LocationUri"):
            sql += f" location '{self.lake.to_local(spec['LocationUri'])}'"
        self.spark.sql(sql)

    def delete_database(self, name: str) -> None:
        if not self._external.databaseExists(name):
            raise NotFound(f"Database {name} not found.")
        self.spark.sql(f"drop database `{name}` cascade")

    # --- tables ------------------------------------------------------------------------------------------

    def tables(self, database: str, expression: str | None = None) -> list[dict[str, Any]]:
        if not self._external.databaseExists(database):
            raise NotFound(f"Database {database} not found.")
        names = sorted(self._java(self._external.listTables(database)))
        if expression:  # Glue's filter: a regular expression, `*` meaning any characters
            pattern = re.compile(expression.replace("*", ".*"), re.IGNORECASE)
            names = [n for n in names if pattern.fullmatch(n)]
        return [self._table(database, name) for name in names]

    def table(self, database: str, name: str) -> dict[str, Any]:
        if not self._external.databaseExists(database):
            raise NotFound(f"Database {database} not found.")
        if not self._external.tableExists(database, name.lower()):
            raise NotFound(f"Table {name} not found.")
        return self._table(database, name.lower())

    def update_table(self, database: str, spec: dict[str, Any]) -> None:
        current = self.table(database, spec["Name"])
        relation = f"`{database}`.`{spec['Name']}`"
        parameters = {
            k: v for k, v in (spec.get("Parameters") or {}).items() if current["Parameters"].get(k) != v
        }
        if parameters:
            pairs = ", ".join(f"'{k}' = '{v}'" for k, v in parameters.items())
            self.spark.sql(f"alter table {relation} set tblproperties ({pairs})")
        location = (spec.get("StorageDescriptor") or {}).get("Location")
        if location and location != current["StorageDescriptor"].get("Location"):
            self.spark.sql(f"alter table {relation} set location '{self.lake.to_local(location)}'")

    def _table(self, database: str, name: str) -> dict[str, Any]:
        table = self._external.getTable(database, name)
        partitions = self._java(table.partitionColumnNames())
        fields = [(f.name(), f.dataType().catalogString()) for f in table.schema().fields()]
        parameters = dict(self._converters.mapAsJavaMap(table.properties()))
        if table.provider().isDefined():
            parameters["spark.sql.sources.provider"] = table.provider().get()
        kind = TABLE_TYPES.get(table.tableType().name(), "EXTERNAL_TABLE")
        storage = table.storage()
        descriptor: dict[str, Any] = {
            "Columns": [{"Name": n, "Type": t} for n, t in fields if n not in partitions],
            "Compressed": False,
            "NumberOfBuckets": -1,
            "StoredAsSubDirectories": False,
            "Parameters": {},
            "SerdeInfo": {"Parameters": {}},
        }
        if storage.locationUri().isDefined():
            descriptor["Location"] = self.lake.to_s3(storage.locationUri().get().toString())
        if storage.inputFormat().isDefined():
            descriptor["InputFormat"] = storage.inputFormat().get()
        if storage.outputFormat().isDefined():
            descriptor["OutputFormat"] = storage.outputFormat().get()
        doc: dict[str, Any] = {
            "Name": name,
            "DatabaseName": database,
            "CreateTime": table.createTime() / 1000,
            "UpdateTime": table.createTime() / 1000,
            "Retention": 0,
            "StorageDescriptor": descriptor,
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in fields if n in partitions],
            "TableType": kind,
            "Parameters": parameters,
            "CatalogId": self.account,
            "IsRegisteredWithLakeFormation": False,
        }
        if table.viewText().isDefined():
            doc["ViewOriginalText"] = doc["ViewExpandedText"] = self.lake.to_s3(table.viewText().get())
        return doc
