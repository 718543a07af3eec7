"""The SQL form of the hunts gives the Polars engine's hits on Spark (local[2]): every bundled hunt's inline tests,
all of them as tenants of one table per source, each hunt run once over it. (Every hunt and test Sigma rule over
the sample cases runs on Spark in a sweep of their store, test_spark_sweep.py.)"""

from pathlib import Path

import polars as pl
import pytest
from hunt_engines import differences, inline_tenants, own_hits

import hunts
from hunts.sql_run import run_spark


pytestmark = pytest.mark.usefixtures("small_data")


@pytest.fixture(scope="module")
def pack() -> list[hunts.Hunt]:
    return hunts.load_hunts()


def _register(spark, frames: dict[str, pl.DataFrame], folder: Path) -> list[str]:
    """The frames as Spark temp views of their names (through Parquet, as a store holds them)."""
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        frame.write_parquet(path)
        spark.read.parquet(str(path)).createOrReplaceTempView(name)
    return list(frames)


def _found(frame: pl.DataFrame) -> set[tuple[str, str, str, str]]:
    return set(frame.select("tenant", "hunt_id", "source", "record_id").iter_rows())


def test_inline_tests_give_the_same_hits_on_spark_as_on_polars_and_as_expected(spark, pack, tmp_path):
    for index, (tenants, enrichment) in enumerate(inline_tenants(pack, with_enrichment=True)):
        folder = tmp_path / str(index)
        folder.mkdir()
        frames = {**tenants.frames, **({"enrichment": enrichment} if enrichment is not None else {})}
        chosen = [hunt for hunt in pack if hunt.id in set(tenants.owners.values())]
        found = _found(run_spark(chosen, spark, _register(spark, frames, folder)))
        assert differences(tenants, found) == {}
        hit: dict[str, set[str]] = {}
        for tenant, _, _, record_id in own_hits(tenants, found):
            hit.setdefault(tenant, set()).add(record_id)
        assert {tenant: hit.get(tenant, set()) for tenant in tenants.expected} == tenants.expected
