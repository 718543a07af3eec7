"""The SQL mode stops a query at the configured time limit and says so."""

from tests.ui.conftest import run_sql
from tests.ui.test_sql_mode import SLOW, SqlApp, loaded, status  # noqa: F401 (loaded is a fixture)


async def test_a_query_past_the_configured_limit_stops_with_the_reason(loaded):  # noqa: F811
    app = SqlApp(loaded)
    app.config = {"sql_timeout": 0.3}
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, SLOW)
        text = status(app)
        assert "query stopped after 0.3 s, the SQL time limit" in text and "sql_timeout" in text
        assert not app.screen.running
        await run_sql(app, pilot, "SELECT 1 AS one")
        assert status(app).startswith("1 row")
